package component

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/net/html"
)

// A Difference is one place where a Go template's HTML and the component's
// differ, as a person would see it.
type Difference struct {
	// Path locates it: the elements around it, with their classes, such
	// as "section.catalog > ul > li.catalog-card[2] > button".
	Path string
	// Template and Component are what each has there: "<button
	// aria-label="Add Mug to cart" class="catalog-add">", "text "Add"", or
	// "nothing".
	Template, Component string
}

func (d Difference) String() string {
	return fmt.Sprintf("%s: the template has %s, the component %s", d.Path, d.Template, d.Component)
}

// MaxDifferences bounds what Drift reports: after the first, the rest
// mostly follow from it.
const MaxDifferences = 10

// Drift compares the HTML a Go template rendered with the HTML the
// component rendered from the same data, as the browser sees both: it
// ignores the white space between elements, the order of attributes,
// entities against the characters they stand for and comments; it reports
// any other difference in the elements, their attributes or their text.
// A team that keeps a template runs it in tests, and collage dev shows it
// in the overlay, so that the server's HTML and what the browser renders
// over it do not drift apart.
func Drift(template, component []byte) []Difference {
	a, b := tokens(string(template)), tokens(string(component))
	var diffs []Difference
	var path []string
	siblings := []map[string]int{{}}
	for i := 0; i < len(a) || i < len(b); i++ {
		var ta, tb token
		if i < len(a) {
			ta = a[i]
		}
		if i < len(b) {
			tb = b[i]
		}
		if ta != tb {
			diffs = append(diffs, Difference{Path: strings.Join(path, " > "), Template: ta.String(), Component: tb.String()})
			if len(diffs) == MaxDifferences {
				break
			}
			if ta.kind != tb.kind || ta.kind != text && ta.name != tb.name {
				break // the structures part ways: what follows would all differ
			}
		}
		// Follow the template's structure for the paths.
		switch t := ta; t.kind {
		case startTag:
			n := siblings[len(siblings)-1]
			step := t.name + t.class
			n[step]++
			if n[step] > 1 {
				step += fmt.Sprintf("[%d]", n[step])
			}
			if !voidElements[t.name] {
				path = append(path, step)
				siblings = append(siblings, map[string]int{})
			}
		case endTag:
			if len(path) > 0 {
				path = path[:len(path)-1]
				siblings = siblings[:len(siblings)-1]
			}
		}
	}
	return diffs
}

type tokenKind int

const (
	none tokenKind = iota
	startTag
	endTag
	text
)

// token is one element's start or end, or a run of text, normalised.
type token struct {
	kind  tokenKind
	name  string // the tag's name; the text
	attrs string // sorted, decoded, for a start tag
	class string // ".a.b", for paths
}

func (t token) String() string {
	switch t.kind {
	case startTag:
		return "<" + t.name + t.attrs + ">"
	case endTag:
		return "</" + t.name + ">"
	case text:
		return fmt.Sprintf("text %q", t.name)
	}
	return "nothing"
}

// voidElements have no end tag.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// spaceRE is a run of white space, which a browser shows as one.
var spaceRE = regexp.MustCompile(`\s+`)

// tokens reads s as the browser's tokenizer does (golang.org/x/net/html),
// into starts, ends and runs of text, without comments or a doctype.
func tokens(s string) []token {
	var out []token
	addText := func(t string) {
		t = spaceRE.ReplaceAllString(t, " ")
		if strings.TrimSpace(t) == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].kind == text {
			out[n-1].name += t // adjacent text nodes read as one
			return
		}
		out = append(out, token{kind: text, name: t})
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken: // the end of s
			for i := range out {
				if out[i].kind == text {
					out[i].name = strings.TrimSpace(out[i].name)
				}
			}
			return out
		case html.TextToken:
			addText(string(z.Text())) // entities decoded
		case html.EndTagToken:
			name, _ := z.TagName()
			out = append(out, token{kind: endTag, name: string(name)})
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			t := token{kind: startTag, name: tok.Data}
			var attrs []string
			for _, a := range tok.Attr {
				v := a.Val
				if a.Key == "class" {
					v = strings.Join(strings.Fields(v), " ")
					t.class = "." + strings.ReplaceAll(v, " ", ".")
				}
				attrs = append(attrs, fmt.Sprintf(" %s=%q", a.Key, v))
			}
			sort.Strings(attrs)
			t.attrs = strings.Join(attrs, "")
			out = append(out, t)
			if tok.Type == html.SelfClosingTagToken && !voidElements[t.name] {
				out = append(out, token{kind: endTag, name: t.name}) // <x/>
			}
		}
	}
}
