package cli

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/collage-dev/collage/shell/layout"
)

// addSlot returns the layout src with slot, the <collage-slot> of the
// frontend name, added as the last child of its <main> element; in a
// layout without one, at the end of its <body>; in a layout without
// either, at its end. The slot goes on a line of its own, indented as the
// line before, when the closing tag begins its line. The result must parse
// as a layout with one slot more, of name.
func addSlot(file string, src []byte, name, slot string) ([]byte, error) {
	before, err := layout.Parse(file, src)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(before.Slots, func(s *layout.Slot) bool { return s.Frontend == name }) {
		return nil, fmt.Errorf("%s: already has a slot of %s", file, name)
	}
	lower := asciiLowerBytes(src)
	at := lastTag(lower, "</main>")
	if at < 0 {
		at = lastTag(lower, "</body>")
	}
	var text string
	switch {
	case at < 0:
		at = len(src)
		text = slot + "\n"
		if len(src) > 0 && src[len(src)-1] != '\n' {
			text = "\n" + text
		}
	case isLineStart(src, at):
		lineAt := bytes.LastIndexByte(src[:at], '\n') + 1
		indent := src[lineAt:at]
		if prev := previousLine(src, lineAt); prev != nil && !opensParent(prev) {
			indent = prev[:len(prev)-len(bytes.TrimLeft(prev, " \t"))]
		}
		text = string(indent) + slot + "\n"
		at = lineAt
	default:
		text = slot
	}
	out := slices.Concat(src[:at], []byte(text), src[at:])
	after, err := layout.Parse(file, out)
	if err != nil {
		return nil, fmt.Errorf("%s: the slot of %s would break the layout: %w", file, name, err)
	}
	if len(after.Slots) != len(before.Slots)+1 {
		return nil, fmt.Errorf("%s: the slot of %s would not be one of the layout's: add it by hand", file, name)
	}
	return out, nil
}

// lastTag returns the offset of the last tag in lower (a layout in lower
// case) outside an HTML comment, or -1.
func lastTag(lower []byte, tag string) int {
	last := -1
	for off := 0; off < len(lower); {
		i := bytes.Index(lower[off:], []byte(tag))
		c := bytes.Index(lower[off:], []byte("<!--"))
		switch {
		case i < 0:
			return last
		case c >= 0 && c < i:
			end := bytes.Index(lower[off+c:], []byte("-->"))
			if end < 0 {
				return last
			}
			off += c + end + len("-->")
		default:
			last = off + i
			off += i + len(tag)
		}
	}
	return last
}

// isLineStart reports whether only spaces and tabs stand before at on its
// line.
func isLineStart(src []byte, at int) bool {
	lineAt := bytes.LastIndexByte(src[:at], '\n') + 1
	return len(bytes.Trim(src[lineAt:at], " \t")) == 0
}

// opensParent reports whether line begins with the start tag of <main> or
// <body>: the slot is then their first child, indented as their end tag.
func opensParent(line []byte) bool {
	l := bytes.TrimLeft(asciiLowerBytes(line), " \t")
	return bytes.HasPrefix(l, []byte("<main")) || bytes.HasPrefix(l, []byte("<body"))
}

// previousLine returns the last line before lineAt that is not blank,
// without its newline, or nil.
func previousLine(src []byte, lineAt int) []byte {
	for end := lineAt - 1; end > 0; {
		start := bytes.LastIndexByte(src[:end], '\n') + 1
		line := bytes.TrimRight(src[start:end], "\r")
		if len(bytes.Trim(line, " \t")) > 0 {
			return line
		}
		end = start - 1
	}
	return nil
}

// asciiLowerBytes lowers only A-Z, so that offsets stay those of src.
func asciiLowerBytes(src []byte) []byte {
	out := make([]byte, len(src))
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
