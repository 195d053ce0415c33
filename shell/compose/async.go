package compose

import (
	"fmt"
	"html"
)

// marks the slot as fallen back. It runs before the client runtime, which is
// a module and so waits for the whole document.
const fillScript = `(function(t){var s=document.querySelector('collage-slot[data-collage-async="'+t.dataset.collageFill+'"]');` +
	`if(s){if(t.dataset.collageFallback){s.dataset.collageFallback=t.dataset.collageFallback}else{s.replaceChildren(t.content)}` +
	`s.removeAttribute("data-collage-async")}t.remove();document.currentScript.remove()})(document.currentScript.previousElementSibling)`

// writeAsync streams the content of every async slot, in document order,
// from slot r.async on; with prefix it stops where it would flush.
func (r *Render) writeAsync(w Writer, prefix bool) (complete bool, err error) {
	for ; r.async < len(r.layout.Slots); r.async++ {
		s := r.layout.Slots[r.async]
		if !s.Async {
			continue
		}
		if r.mustFlush(s.Index) {
			if prefix {
				return false, nil
			}
			if err := r.flush(w); err != nil {
				return false, err
			}
		}
		res := r.result(s.Index)
		if res.Outcome == Timeout || res.Outcome == Failed {
			_, err = fmt.Fprintf(w, `<template data-collage-fill="%d" data-collage-fallback="%s"></template>`, s.Index, res.Outcome)
		} else {
			_, err = fmt.Fprintf(w, `<template data-collage-fill="%d">%s</template>`, s.Index, res.Body)
		}
		if err != nil {
			return false, err
		}
		if _, err := fmt.Fprintf(w, `<script nonce="%s">%s</script>`, html.EscapeString(r.req.Nonce), fillScript); err != nil {
			return false, err
		}
	}
	return true, nil
}
