package layout

import (
	"bytes"
	"fmt"
	"html"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultTimeout is a slot's deadline when its layout gives none.
const DefaultTimeout = time.Second

// Layout is a parsed layout: chunks to write in order.
type Layout struct {
	Name   string  // file name, for errors and logs
	Chunks []Chunk // static HTML, slots and the head marker, in document order
	Slots  []*Slot // every slot, in document order
	// Primary is the slot whose status becomes the page's, or nil.
	Primary *Slot
}

// Chunk is one piece of a layout: static bytes, a slot, the place in the
// head (just before </head>) where the shell writes its tags, or the end of
// the body (just before </body>, or the end of the layout) where the content
// of async slots streams.
type Chunk struct {
	Static  []byte
	Slot    *Slot
	Head    bool
	BodyEnd bool
}

// Slot is one <collage-slot> of a layout.
type Slot struct {
	Index    int // position in Layout.Slots
	Frontend string
	Name     string
	Timeout  time.Duration
	Primary  bool
	Async    bool
	Fallback []byte
	Line     int
	// Open is the slot's start tag as the shell writes it, without its closing
	// ">" so that the composer can add the outcome: the attributes
	// it knows, then the ones that pass through.
	Open []byte
	// Quick is the composer's note of the slot's last fetch, not parsed:
	// whether it ended within a few microseconds, as a render in process
	// or a cached fragment does. The composer fetches a page's quick slots
	// one after another on one goroutine.
	Quick atomic.Bool
}

// Error is a layout that cannot be used, with its place.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

const (
	slotTag  = "<collage-slot"
	slotEnd  = "</collage-slot>"
	headEnd  = "</head>"
	bodyEnd  = "</body>"
	headOpen = "<head"
)

// Parse parses the layout called name.
func Parse(name string, src []byte) (*Layout, error) {
	p := &parser{name: name, src: src, lower: asciiLower(src)}
	return p.parse()
}

// asciiLower lowers only A-Z: bytes.ToLower maps other runes too, which can
// change their length (İ, K, invalid UTF-8) and shift every offset after them.
func asciiLower(src []byte) []byte {
	out := make([]byte, len(src))
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

type parser struct {
	name  string
	src   []byte
	lower []byte // src with ASCII letters in lower case, same offsets, for case-insensitive search
	l     Layout
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &Error{File: p.name, Line: 1 + bytes.Count(p.src[:off], []byte("\n")), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() (*Layout, error) {
	p.l.Name = p.name
	headAt := -1
	if h := p.find(0, headOpen); h >= 0 && isTagEnd(p.src, h+len(headOpen)) {
		headAt = p.find(h, headEnd)
		if headAt < 0 {
			return nil, p.errorf(h, "<head> is never closed: add </head>")
		}
	}
	static := 0
	for off := 0; off < len(p.src); {
		next := p.find(off, slotTag)
		stray := p.find(off, slotEnd)
		if stray >= 0 && (next < 0 || stray < next) {
			return nil, p.errorf(stray, "</collage-slot> without a matching <collage-slot>")
		}
		if next < 0 {
			break
		}
		if !isTagEnd(p.src, next+len(slotTag)) {
			off = next + len(slotTag)
			continue
		}
		if headAt >= 0 && next < headAt {
			return nil, p.errorf(next, "<collage-slot> cannot be inside <head>")
		}
		p.static(static, next, headAt)
		slot, end, err := p.slot(next)
		if err != nil {
			return nil, err
		}
		p.l.Chunks = append(p.l.Chunks, Chunk{Slot: slot})
		p.l.Slots = append(p.l.Slots, slot)
		static, off = end, end
	}
	// The body ends after the head: a "</body>" inside it (in a script's
	// string, say) must not take the head marker's place.
	bodyAt := p.findLast(max(static, headAt), bodyEnd)
	if bodyAt < 0 {
		bodyAt = len(p.src)
	}
	p.static(static, bodyAt, headAt)
	p.l.Chunks = append(p.l.Chunks, Chunk{BodyEnd: true})
	p.addStatic(p.src[bodyAt:])
	return &p.l, nil
}

// findLast returns the offset of the last tag at or after off that is not in
// a comment, or -1.
func (p *parser) findLast(off int, tag string) int {
	last := -1
	for {
		i := p.find(off, tag)
		if i < 0 {
			return last
		}
		last, off = i, i+len(tag)
	}
}

// static adds src[from:to], split at the head marker when it falls inside.
func (p *parser) static(from, to, headAt int) {
	if headAt >= from && headAt < to {
		p.addStatic(p.src[from:headAt])
		p.l.Chunks = append(p.l.Chunks, Chunk{Head: true})
		from = headAt
	}
	p.addStatic(p.src[from:to])
}

func (p *parser) addStatic(b []byte) {
	if len(b) > 0 {
		p.l.Chunks = append(p.l.Chunks, Chunk{Static: b})
	}
}

// find returns the offset of the next tag (lower case) at or after off that
// is not inside an HTML comment, or -1.
func (p *parser) find(off int, tag string) int {
	for {
		i := bytes.Index(p.lower[off:], []byte(tag))
		if i < 0 {
			return -1
		}
		i += off
		c := bytes.Index(p.lower[off:i], []byte("<!--"))
		if c < 0 {
			return i
		}
		end := bytes.Index(p.lower[off+c:], []byte("-->"))
		if end < 0 {
			return -1
		}
		off = off + c + end + 3
	}
}

func isTagEnd(src []byte, i int) bool {
	if i >= len(src) {
		return false
	}
	switch src[i] {
	case ' ', '\t', '\n', '\r', '\f', '>', '/':
		return true
	}
	return false
}

// slot parses the slot whose start tag begins at start; it returns the
// offset just past its end tag.
func (p *parser) slot(start int) (*Slot, int, error) {
	s := &Slot{Index: len(p.l.Slots), Timeout: DefaultTimeout, Line: 1 + bytes.Count(p.src[:start], []byte("\n"))}
	attrs, tagEnd, err := p.attrs(start + len(slotTag))
	if err != nil {
		return nil, 0, err
	}
	var pass []attr
	for _, a := range attrs {
		switch a.name {
		case "frontend":
			s.Frontend = a.value
		case "name":
			s.Name = a.value
		case "timeout":
			d, err := time.ParseDuration(a.value)
			if err != nil || d <= 0 {
				return nil, 0, p.errorf(start, "timeout=%q is not a positive duration (like 150ms or 2s)", a.value)
			}
			s.Timeout = d
		case "primary":
			s.Primary = true
		case "async":
			s.Async = true
		case "id", "class", "role", "title", "hidden":
			pass = append(pass, a)
		default:
			if strings.HasPrefix(a.name, "data-") || strings.HasPrefix(a.name, "aria-") {
				pass = append(pass, a)
				continue
			}
			return nil, 0, p.errorf(start, "<collage-slot> has an unknown attribute %q (known: frontend, timeout, primary, async, name, id, class, role, title, data-*, aria-*)", a.name)
		}
	}
	switch {
	case s.Frontend == "":
		return nil, 0, p.errorf(start, `<collage-slot> needs a frontend="NAME" attribute`)
	case s.Primary && s.Async:
		return nil, 0, p.errorf(start, "a slot cannot be both primary and async: the page's status waits for the primary slot")
	case s.Primary && p.l.Primary != nil:
		return nil, 0, p.errorf(start, "a second primary slot (the first is at line %d): at most one slot may be primary", p.l.Primary.Line)
	}
	if s.Primary {
		p.l.Primary = s
	}
	if bytes.HasSuffix(bytes.TrimRight(p.src[start:tagEnd-1], " \t\r\n"), []byte("/")) {
		return nil, 0, p.errorf(start, "<collage-slot/> cannot close itself in HTML: write <collage-slot …>fallback</collage-slot>")
	}
	end := p.find(tagEnd, slotEnd)
	if end < 0 {
		return nil, 0, p.errorf(start, "<collage-slot frontend=%q> is never closed: add </collage-slot>", s.Frontend)
	}
	if inner := p.find(tagEnd, slotTag); inner >= 0 && inner < end {
		return nil, 0, p.errorf(inner, "<collage-slot> cannot be nested inside another slot (line %d)", s.Line)
	}
	s.Fallback = p.src[tagEnd:end]
	s.Open = openTag(s, pass)
	return s, end + len(slotEnd), nil
}

type attr struct{ name, value string }

// attrs parses attributes from off up to the closing '>', returning them and
// the offset just past '>'.
func (p *parser) attrs(off int) ([]attr, int, error) {
	var out []attr
	src := p.src
	seen := map[string]bool{}
	for {
		for off < len(src) && isSpace(src[off]) {
			off++
		}
		if off >= len(src) {
			return nil, 0, p.errorf(off-1, "<collage-slot> start tag is never closed with '>'")
		}
		switch src[off] {
		case '>':
			return out, off + 1, nil
		case '/':
			off++
			continue
		case '<', '"', '\'', '=':
			return nil, 0, p.errorf(off, "malformed <collage-slot> start tag: unexpected %q", src[off])
		}
		nameStart := off
		for off < len(src) && !isSpace(src[off]) && src[off] != '=' && src[off] != '>' && src[off] != '/' {
			if src[off] == '<' || src[off] == '"' || src[off] == '\'' {
				return nil, 0, p.errorf(off, "malformed <collage-slot> start tag: unexpected %q in an attribute name", src[off])
			}
			off++
		}
		a := attr{name: strings.ToLower(string(src[nameStart:off]))}
		if seen[a.name] {
			return nil, 0, p.errorf(nameStart, "<collage-slot> repeats the attribute %q", a.name)
		}
		seen[a.name] = true
		for off < len(src) && isSpace(src[off]) {
			off++
		}
		if off < len(src) && src[off] == '=' {
			off++
			for off < len(src) && isSpace(src[off]) {
				off++
			}
			if off >= len(src) {
				return nil, 0, p.errorf(off-1, "<collage-slot> start tag is never closed with '>'")
			}
			if q := src[off]; q == '"' || q == '\'' {
				end := bytes.IndexByte(src[off+1:], q)
				if end < 0 {
					return nil, 0, p.errorf(off, "attribute %q: quote is never closed", a.name)
				}
				a.value = html.UnescapeString(string(src[off+1 : off+1+end]))
				off += end + 2
			} else {
				vs := off
				for off < len(src) && !isSpace(src[off]) && src[off] != '>' {
					off++
				}
				a.value = html.UnescapeString(string(src[vs:off]))
			}
		}
		out = append(out, a)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// openTag writes the start tag the shell emits for s.
func openTag(s *Slot, pass []attr) []byte {
	var b strings.Builder
	b.WriteString(`<collage-slot frontend="`)
	b.WriteString(html.EscapeString(s.Frontend))
	b.WriteByte('"')
	if s.Name != "" {
		fmt.Fprintf(&b, ` name="%s"`, html.EscapeString(s.Name))
	}
	if s.Primary {
		b.WriteString(" primary")
	}
	if s.Async {
		b.WriteString(" async")
	}
	for _, a := range pass {
		fmt.Fprintf(&b, ` %s="%s"`, a.name, html.EscapeString(a.value))
	}
	return []byte(b.String())
}
