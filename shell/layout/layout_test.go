package layout_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/layout"
)

// describe renders a layout's chunks compactly: static text as is, a slot as
// {slot N}, the head marker as {head}, the end of the body as {end}.
func describe(t *testing.T, l *layout.Layout) string {
	t.Helper()
	var b strings.Builder
	for _, c := range l.Chunks {
		switch {
		case c.Head:
			b.WriteString("{head}")
		case c.BodyEnd:
			b.WriteString("{end}")
		case c.Slot != nil:
			fmt.Fprintf(&b, "{slot %d}", c.Slot.Index)
		default:
			if len(c.Static) == 0 {
				t.Errorf("empty static chunk")
			}
			b.Write(c.Static)
		}
	}
	return b.String()
}

// wantSlot is what a test expects of a slot; zero fields are not checked
// except where noted.
type wantSlot struct {
	frontend string
	name     string
	timeout  time.Duration // 0 means layout.DefaultTimeout
	primary  bool
	async    bool
	fallback string
	line     int
	open     string
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		chunks  string
		primary int // index of the primary slot, -1 for none
		slots   []wantSlot
	}{
		{
			name:    "head and two slots",
			src:     "<html><head><title>t</title></head>\n<body>\n<collage-slot frontend=\"header\" timeout=\"150ms\">menu</collage-slot>\n<main><collage-slot frontend=\"catalog\" primary>loading</collage-slot></main></body></html>",
			chunks:  "<html><head><title>t</title>{head}</head>\n<body>\n{slot 0}\n<main>{slot 1}</main>{end}</body></html>",
			primary: 1,
			slots: []wantSlot{
				{frontend: "header", timeout: 150 * time.Millisecond, fallback: "menu", line: 3, open: `<collage-slot frontend="header"`},
				{frontend: "catalog", primary: true, fallback: "loading", line: 4, open: `<collage-slot frontend="catalog" primary`},
			},
		},
		{
			name:    "no head",
			src:     "<div><collage-slot frontend=a>x</collage-slot></div>",
			chunks:  "<div>{slot 0}</div>{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", fallback: "x", line: 1, open: `<collage-slot frontend="a"`}},
		},
		{
			name:    "header element is not a head",
			src:     "<header><collage-slot frontend=a></collage-slot></header>",
			chunks:  "<header>{slot 0}</header>{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", line: 1}},
		},
		{
			name:    "head with attributes",
			src:     "<HEAD lang=en></Head><collage-slot frontend=a></collage-slot>",
			chunks:  "<HEAD lang=en>{head}</Head>{slot 0}{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", line: 1}},
		},
		{
			name:    "no slots",
			src:     "<head></head><p>static</p>",
			chunks:  "<head>{head}</head><p>static</p>{end}",
			primary: -1,
		},
		{
			name:    "empty layout",
			src:     "",
			chunks:  "{end}",
			primary: -1,
		},
		{
			name:    "comments hide slots, end tags and heads",
			src:     "<!-- <head> --><!-- <collage-slot frontend=x> </collage-slot> --><collage-slot frontend=a><!-- </collage-slot> <collage-slot frontend=b> -->fb</collage-slot><!---->",
			chunks:  "<!-- <head> --><!-- <collage-slot frontend=x> </collage-slot> -->{slot 0}<!---->{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", fallback: "<!-- </collage-slot> <collage-slot frontend=b> -->fb", line: 1}},
		},
		{
			name:    "a longer tag name is not a slot",
			src:     "<collage-slots></collage-slots><collage-slot frontend=a></collage-slot>",
			chunks:  "<collage-slots></collage-slots>{slot 0}{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a"}},
		},
		{
			name:    "attribute forms",
			src:     "<collage-slot\n\tfrontend = 'recs'\n\tname=side timeout=2s ASYNC\n\tid=\"r\" class='a b' role=complementary title=\"&quot;Recs&quot;\" hidden data-x=\"1 &amp; 2\" aria-label=More>fb</collage-slot>",
			chunks:  "{slot 0}{end}",
			primary: -1,
			slots: []wantSlot{{
				frontend: "recs", name: "side", timeout: 2 * time.Second, async: true, fallback: "fb", line: 1,
				open: `<collage-slot frontend="recs" name="side" async id="r" class="a b" role="complementary" title="&#34;Recs&#34;" hidden="" data-x="1 &amp; 2" aria-label="More"`,
			}},
		},
		{
			name:    "case-insensitive tags",
			src:     "<Collage-Slot Frontend=a>x</COLLAGE-SLOT>",
			chunks:  "{slot 0}{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", fallback: "x", open: `<collage-slot frontend="a"`}},
		},
		{
			name:    "escaped frontend and name in the open tag",
			src:     `<collage-slot frontend="a" name="x&quot;><script>">x</collage-slot>`,
			chunks:  "{slot 0}{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", name: `x"><script>`, fallback: "x", open: `<collage-slot frontend="a" name="x&#34;&gt;&lt;script&gt;"`}},
		},
		{
			// Text before the slot that lower-cases to a different length
			// (Turkish İ, the Kelvin sign, invalid UTF-8) must not shift it.
			name:    "non-ASCII text before a slot",
			src:     "İstanbul K \xff<collage-slot frontend=a>x</collage-slot>ü",
			chunks:  "İstanbul K \xff{slot 0}ü{end}",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", fallback: "x", line: 1}},
		},
		{
			name:    "async content goes before the last </body> outside comments",
			src:     "<body><collage-slot frontend=a async></collage-slot></body>\n</BODY><!-- </body> -->",
			chunks:  "<body>{slot 0}</body>\n{end}</BODY><!-- </body> -->",
			primary: -1,
			slots:   []wantSlot{{frontend: "a", async: true, open: `<collage-slot frontend="a" async`}},
		},
		{
			name:    "a </body> inside the head is not the end of the body",
			src:     "<head><script>\"</body>\"</script></head><p>x",
			chunks:  "<head><script>\"</body>\"</script>{head}</head><p>x{end}",
			primary: -1,
		},
		{
			name:    "fallback with markup and lines",
			src:     "<head>\n</head>\n<collage-slot frontend=a>\n<p>Sorry</p>\n</collage-slot>\n<collage-slot frontend=b timeout=1m30s></collage-slot>",
			chunks:  "<head>\n{head}</head>\n{slot 0}\n{slot 1}{end}",
			primary: -1,
			slots: []wantSlot{
				{frontend: "a", fallback: "\n<p>Sorry</p>\n", line: 3},
				{frontend: "b", timeout: 90 * time.Second, line: 6},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := layout.Parse("page.html", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if l.Name != "page.html" {
				t.Errorf("Name = %q", l.Name)
			}
			if got := describe(t, l); got != tt.chunks {
				t.Errorf("chunks:\n got %q\nwant %q", got, tt.chunks)
			}
			if len(l.Slots) != len(tt.slots) {
				t.Fatalf("%d slots, want %d", len(l.Slots), len(tt.slots))
			}
			switch {
			case tt.primary < 0 && l.Primary != nil:
				t.Errorf("Primary = slot %d, want none", l.Primary.Index)
			case tt.primary >= 0 && l.Primary != l.Slots[tt.primary]:
				t.Errorf("Primary = %v, want slot %d", l.Primary, tt.primary)
			}
			for i, w := range tt.slots {
				s := l.Slots[i]
				if s.Index != i {
					t.Errorf("slot %d: Index = %d", i, s.Index)
				}
				timeout := w.timeout
				if timeout == 0 {
					timeout = layout.DefaultTimeout
				}
				if s.Frontend != w.frontend || s.Name != w.name || s.Timeout != timeout || s.Primary != w.primary ||
					s.Async != w.async || string(s.Fallback) != w.fallback {
					t.Errorf("slot %d = {frontend %q name %q timeout %v primary %v async %v fallback %q}, want %+v",
						i, s.Frontend, s.Name, s.Timeout, s.Primary, s.Async, s.Fallback, w)
				}
				if w.line != 0 && s.Line != w.line {
					t.Errorf("slot %d: Line = %d, want %d", i, s.Line, w.line)
				}
				if w.open != "" && string(s.Open) != w.open {
					t.Errorf("slot %d: Open:\n got %s\nwant %s", i, s.Open, w.open)
				}
			}
		})
	}
}

func TestDefaultTimeout(t *testing.T) {
	t.Parallel()
	l, err := layout.Parse("p", []byte("<collage-slot frontend=a></collage-slot>"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Slots[0].Timeout != time.Second || layout.DefaultTimeout != time.Second {
		t.Errorf("Timeout = %v, DefaultTimeout = %v, want 1s (documented)", l.Slots[0].Timeout, layout.DefaultTimeout)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		line int
		msg  string // a substring of the message
	}{
		{"missing frontend", "<p>\n<collage-slot timeout=1s>x</collage-slot>", 2, `needs a frontend="NAME"`},
		{"empty frontend", "<collage-slot frontend=\"\">x</collage-slot>", 1, `needs a frontend="NAME"`},
		{"bad timeout", "\n\n<collage-slot frontend=a timeout=soon>x</collage-slot>", 3, `timeout="soon" is not a positive duration`},
		{"zero timeout", "<collage-slot frontend=a timeout=0s>x</collage-slot>", 1, `timeout="0s"`},
		{"negative timeout", "<collage-slot frontend=a timeout=-1s>x</collage-slot>", 1, `timeout="-1s"`},
		{"number without unit", "<collage-slot frontend=a timeout=150>x</collage-slot>", 1, `timeout="150"`},
		{
			"two primaries",
			"<collage-slot frontend=a primary></collage-slot>\n<p>\n<collage-slot frontend=b primary></collage-slot>",
			3, "second primary slot (the first is at line 1)",
		},
		{"primary and async", "\n<collage-slot frontend=a primary async></collage-slot>", 2, "both primary and async"},
		{"unknown attribute", "<collage-slot frontend=a src=x></collage-slot>", 1, `unknown attribute "src"`},
		{"event handler attribute", "<collage-slot frontend=a onclick=x></collage-slot>", 1, `unknown attribute "onclick"`},
		{"unclosed slot", "<p>\n<collage-slot frontend=a>x\n</p>", 2, `<collage-slot frontend="a"> is never closed`},
		{"end tag only in a comment", "<collage-slot frontend=a>x<!-- </collage-slot> -->", 1, "is never closed"},
		{"stray end tag", "<p>\n</p>\n</collage-slot>", 3, "without a matching <collage-slot>"},
		{"stray end tag after a slot", "<collage-slot frontend=a></collage-slot>\n</collage-slot>", 2, "without a matching"},
		{"nested slot", "<collage-slot frontend=a>\n<collage-slot frontend=b></collage-slot></collage-slot>", 2, "cannot be nested inside another slot (line 1)"},
		{"self-closing slot", "<p>\n<collage-slot frontend=a />", 2, "cannot close itself"},
		{"self-closing slot without space", `<collage-slot frontend="a"/>`, 1, "cannot close itself"},
		{"unclosed start tag", "<p>\n<collage-slot frontend=a", 2, "start tag is never closed"},
		{"unclosed start tag after equals", "<collage-slot frontend=", 1, "start tag is never closed"},
		{"start tag cut by another tag", "<collage-slot frontend=a <p>", 1, "unexpected '<'"},
		{"unclosed quote", "<collage-slot frontend=\"a>x</collage-slot>", 1, "quote is never closed"},
		{"slot inside head", "<head>\n<collage-slot frontend=a></collage-slot>\n</head>", 2, "cannot be inside <head>"},
		{"head never closed", "<html>\n<head>\n<title>x</title>", 2, "<head> is never closed"},
		{"head closed only in a comment", "<head><!-- </head> -->", 1, "<head> is never closed"},
		{"repeated attribute", "<collage-slot frontend=a\n  frontend=b></collage-slot>", 2, `repeats the attribute "frontend"`},
		{"repeated attribute in other case", "<collage-slot frontend=a TIMEOUT=1s timeout=2s></collage-slot>", 1, `repeats the attribute "timeout"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := layout.Parse("layouts/page.html", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded with %d chunks, want an error", len(l.Chunks))
			}
			var le *layout.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v is a %T, want *layout.Error", err, err)
			}
			if le.File != "layouts/page.html" || le.Line != tt.line {
				t.Errorf("place = %s:%d, want layouts/page.html:%d (%v)", le.File, le.Line, tt.line, err)
			}
			if !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("message %q does not contain %q", le.Msg, tt.msg)
			}
			if want := fmt.Sprintf("layouts/page.html:%d: ", tt.line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}
