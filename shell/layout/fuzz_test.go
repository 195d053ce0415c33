package layout_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/collage-dev/collage/shell/layout"
)

// FuzzParse checks that Parse never panics, that its errors are placed in
// the source, and that a parsed layout accounts for every byte of it: the
// static chunks, the head and end-of-body markers and the slots, read in
// order, are the source again. Its seed corpus is testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, src []byte) {
		l, err := layout.Parse("f.html", src)
		if err != nil {
			var le *layout.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v is a %T, want *layout.Error", err, err)
			}
			if lines := 1 + bytes.Count(src, []byte("\n")); le.Line < 1 || le.Line > lines {
				t.Fatalf("error line %d outside 1..%d: %v", le.Line, lines, err)
			}
			return
		}
		checkLayout(t, src, l)
		for _, s := range l.Slots {
			checkRoundTrip(t, s)
		}
	})
}

func checkLayout(t *testing.T, src []byte, l *layout.Layout) {
	t.Helper()
	heads, ends, slots, primaries := 0, 0, 0, 0
	for _, c := range l.Chunks {
		n := 0
		if c.Head {
			n++
			heads++
		}
		if c.BodyEnd {
			n++
			ends++
		}
		if c.Slot != nil {
			n++
			if ends > 0 {
				t.Fatalf("slot %d after the end-of-body marker", slots)
			}
			if c.Slot != l.Slots[slots] || c.Slot.Index != slots {
				t.Fatalf("slot chunk %d is not Slots[%d]", slots, slots)
			}
			slots++
		}
		if len(c.Static) > 0 {
			n++
		}
		if n != 1 {
			t.Fatalf("a chunk must be exactly one of static, slot, head, body end: %+v", c)
		}
	}
	if ends != 1 {
		t.Fatalf("%d end-of-body markers, want 1", ends)
	}
	if slots != len(l.Slots) {
		t.Fatalf("%d slot chunks, %d slots", slots, len(l.Slots))
	}
	if heads > 1 {
		t.Fatalf("%d head markers, want at most 1", heads)
	}
	for _, s := range l.Slots {
		if s.Frontend == "" || s.Timeout <= 0 || (s.Primary && s.Async) {
			t.Fatalf("invalid slot accepted: %+v", s)
		}
		if s.Primary {
			primaries++
			if l.Primary != s {
				t.Fatalf("slot %d is primary but Layout.Primary is %v", s.Index, l.Primary)
			}
		}
		if !bytes.HasPrefix(s.Open, []byte(`<collage-slot frontend="`)) {
			t.Fatalf("Open = %q", s.Open)
		}
	}
	if primaries > 1 || (primaries == 0) != (l.Primary == nil) {
		t.Fatalf("%d primary slots, Layout.Primary = %v", primaries, l.Primary)
	}
	budget := 100000
	if !covers(src, asciiLower(src), l.Chunks, 0, &budget) && budget > 0 {
		t.Fatalf("the chunks do not account for the source %q", src)
	}
}

// covers reports whether chunks, read from src[at:], are the rest of src: a
// static chunk is its bytes, the head marker sits just before </head>, and a
// slot is a <collage-slot …> start tag, its fallback, and </collage-slot>;
// the end-of-body marker sits before </body> or at the end.
// budget bounds the search.
func covers(src, lower []byte, chunks []layout.Chunk, at int, budget *int) bool {
	if *budget--; *budget <= 0 {
		return false
	}
	if len(chunks) == 0 {
		return at == len(src)
	}
	c, rest := chunks[0], chunks[1:]
	switch {
	case c.Head:
		return bytes.HasPrefix(lower[at:], []byte("</head>")) && covers(src, lower, rest, at, budget)
	case c.BodyEnd:
		return (at == len(src) || bytes.HasPrefix(lower[at:], []byte("</body>"))) && covers(src, lower, rest, at, budget)
	case c.Slot != nil:
		s := c.Slot
		if !bytes.HasPrefix(lower[at:], []byte("<collage-slot")) || s.Line != 1+bytes.Count(src[:at], []byte("\n")) {
			return false
		}
		end := []byte("</collage-slot>")
		for from := at + len("<collage-slot"); from < len(src); from++ {
			i := bytes.Index(src[from:], s.Fallback)
			if i < 0 {
				return false
			}
			k := from + i // where the fallback would start
			after := k + len(s.Fallback)
			if src[k-1] == '>' && bytes.HasPrefix(lower[after:], end) && covers(src, lower, rest, after+len(end), budget) {
				return true
			}
			from = k
		}
		return false
	default:
		return bytes.HasPrefix(src[at:], c.Static) && covers(src, lower, rest, at+len(c.Static), budget)
	}
}

// checkRoundTrip parses the slot as the shell writes it, behind an empty
// head so that a <head> in the fallback cannot be taken for the page's:
// the shell's own output must parse to the same slot.
func checkRoundTrip(t *testing.T, s *layout.Slot) {
	t.Helper()
	doc := "<head></head>" + string(s.Open) + ">" + string(s.Fallback) + "</collage-slot>"
	l, err := layout.Parse("again.html", []byte(doc))
	if err != nil {
		t.Fatalf("the slot as written does not parse: %v\n%q", err, doc)
	}
	if len(l.Slots) != 1 {
		t.Fatalf("the slot as written parses to %d slots: %q", len(l.Slots), doc)
	}
	g := l.Slots[0]
	if g.Frontend != s.Frontend || g.Name != s.Name || g.Primary != s.Primary || g.Async != s.Async ||
		!bytes.Equal(g.Fallback, s.Fallback) || !bytes.Equal(g.Open, s.Open) {
		t.Fatalf("round trip changed the slot:\n got %+v\nwant %+v", g, s)
	}
}

func asciiLower(b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}
