package component

import (
	"bytes"
	"strings"
	"testing"
)

func TestFragment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{"compacted", `{ "a": [1, 2] }`, `<script type="application/json" data-collage-data>{"a":[1,2]}</script><p>x</p>`},
		{"script end escaped", `{"s":"</script><script>alert(1)</script>"}`,
			`<script type="application/json" data-collage-data>{"s":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"}</script><p>x</p>`},
		{"comment and ampersand escaped", `"<!-- & -->"`, `<script type="application/json" data-collage-data>"\u003c!-- \u0026 --\u003e"</script><p>x</p>`},
		{"line separators escaped", "\"a\u2028b\u2029\"", `<script type="application/json" data-collage-data>"a\u2028b\u2029"</script><p>x</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Fragment(&b, []byte("<p>x</p>"), []byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}

func TestFragmentRejectsBadData(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	err := Fragment(&b, []byte("<p>x</p>"), []byte(`{"a":`))
	if err == nil || !strings.Contains(err.Error(), "component data") {
		t.Fatalf("err = %v, want a component data error", err)
	}
}

func TestErrorNamesFrontend(t *testing.T) {
	t.Parallel()
	e := &Error{Frontend: "catalog", Message: "TypeError: boom"}
	if e.Error() != "component catalog: TypeError: boom" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Fragment(&b, []byte("<p>x</p>"), []byte(`{"s":"</script>"}`)); err != nil {
		t.Fatal(err)
	}
	html, data, ok := Split(b.Bytes())
	if !ok || string(html) != "<p>x</p>" || string(data) != `{"s":"\u003c/script\u003e"}` {
		t.Errorf("Split = %q, %q, %v", html, data, ok)
	}
	if _, _, ok := Split([]byte("<p>x</p>")); ok {
		t.Error("a body without data split")
	}
}
