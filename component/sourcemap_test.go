package component

import "testing"

// testMap maps generated line 1 column 1 to a.ts:1:1, line 1 column 5 to
// a.ts:1:5, line 2 column 1 to a.ts:2:5 and line 2 column 3 to b.tsx:10:3.
const testMap = `{"version":3,"sources":["a.ts","b.tsx"],"mappings":"AAAA,IAAI;AACA,ECQF"}`

func TestSourceMapPosition(t *testing.T) {
	t.Parallel()
	m, err := ParseSourceMap([]byte(testMap))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line, col int
		file      string
		l, c      int
		ok        bool
	}{
		{1, 1, "a.ts", 1, 1, true},
		{1, 4, "a.ts", 1, 1, true},
		{1, 5, "a.ts", 1, 5, true},
		{1, 99, "a.ts", 1, 5, true},
		{2, 1, "a.ts", 2, 5, true},
		{2, 3, "b.tsx", 10, 3, true},
		{3, 1, "", 0, 0, false},
		{0, 1, "", 0, 0, false},
	}
	for _, tt := range tests {
		file, l, c, ok := m.Position(tt.line, tt.col)
		if file != tt.file || l != tt.l || c != tt.c || ok != tt.ok {
			t.Errorf("Position(%d, %d) = %s:%d:%d %v, want %s:%d:%d %v", tt.line, tt.col, file, l, c, ok, tt.file, tt.l, tt.c, tt.ok)
		}
	}
}

func TestSourceMapStack(t *testing.T) {
	t.Parallel()
	m, err := ParseSourceMap([]byte(testMap))
	if err != nil {
		t.Fatal(err)
	}
	in := "    at View (<eval>:2:3)\n    at <anonymous> (<eval>:1:6)\n    at native\n    at x (<eval>:7:1)\n"
	want := "    at View (b.tsx:10:3)\n    at <anonymous> (a.ts:1:5)\n    at native\n    at x (<eval>:7:1)\n"
	if got := m.Stack(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseSourceMapErrors(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		`{"version":2,"sources":[],"mappings":""}`,
		`{"version":3,"sources":["a"],"mappings":"AAAA,!"}`,
		`{"version":3,"sources":["a"],"mappings":"ACAA"}`,
		`{"version":3,"sources":["a"],"mappings":"g"}`,
		`not json`,
	} {
		if _, err := ParseSourceMap([]byte(data)); err == nil {
			t.Errorf("ParseSourceMap(%s) succeeded", data)
		}
	}
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	stack := "    at j (node_modules/preact-render-to-string/src/index.js:453:23)\n" +
		"    at Ge (frontends/shop/src/View.tsx:4:23)\n" +
		"    at <anonymous> (collage-server:collage-server:shop:4:46)\n"
	if f, l, c := Origin(stack); f != "frontends/shop/src/View.tsx" || l != 4 || c != 23 {
		t.Errorf("Origin = %s:%d:%d", f, l, c)
	}
	if f, _, _ := Origin("    at x (<eval>:1:2)\n    at native"); f != "" {
		t.Errorf("Origin of a stack outside the frontend = %q", f)
	}
}
