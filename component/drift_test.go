package component

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDriftIgnoresWhatTheBrowserIgnores(t *testing.T) {
	t.Parallel()
	tmpl := `<section class="a  b" id="x">
  <h1>Tom &amp; Jerry&#39;s</h1>
  <!-- a comment -->
  <p>12 products</p>
  <input type="checkbox" checked>
  <svg><path d="M0 0"/></svg>
</section>`
	comp := `<section id="x" class="a b"><h1>Tom &amp; Jerry's</h1><p>12 <!-- -->products</p><input type="checkbox" checked/><svg><path d="M0 0"></path></svg></section>`
	if d := Drift([]byte(tmpl), []byte(comp)); len(d) != 0 {
		t.Errorf("differences: %v", d)
	}
}

func TestDriftFindsDifferences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tmpl, comp string
		want             []string
	}{
		{"text", `<ul><li class="c">a</li><li class="c"><b>Add</b></li></ul>`, `<ul><li class="c">a</li><li class="c"><b>Add to cart</b></li></ul>`,
			[]string{`ul > li.c[2] > b: the template has text "Add", the component text "Add to cart"`}},
		{"attribute", `<a href="/x">x</a>`, `<a href="/y">x</a>`,
			[]string{`: the template has <a href="/x">, the component <a href="/y">`}},
		{"element", `<div><p>x</p></div>`, `<div><span>x</span></div>`,
			[]string{`div: the template has <p>, the component <span>`}},
		{"missing", `<div><p>x</p><p>y</p></div>`, `<div><p>x</p></div>`,
			[]string{`div: the template has <p>, the component </div>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, d := range Drift([]byte(tt.tmpl), []byte(tt.comp)) {
				got = append(got, d.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestDriftBound(t *testing.T) {
	t.Parallel()
	a := strings.Repeat(`<p class="x">a</p>`, 50)
	b := strings.Repeat(`<p class="x">b</p>`, 50)
	if n := len(Drift([]byte(a), []byte(b))); n != MaxDifferences {
		t.Errorf("%d differences, want %d", n, MaxDifferences)
	}
}

// TestDriftOfTheCatalog compares the Go template the demo's catalog had
// with what its component renders from the same data: they were kept
// equal by hand, and are.
func TestDriftOfTheCatalog(t *testing.T) {
	t.Parallel()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "catalog-template.html"))
	if err != nil {
		t.Fatal(err)
	}
	comp, err := os.ReadFile(filepath.Join("..", "tests", "components", "testdata", "catalog-home.golden.html"))
	if err != nil {
		t.Fatal(err)
	}
	if d := Drift(tmpl, comp); len(d) != 0 {
		t.Errorf("differences: %v", d)
	}
	changed := strings.Replace(string(tmpl), "Add to cart", "Add to basket", 1)
	if d := Drift([]byte(changed), comp); len(d) != 1 || !strings.Contains(d[0].Path, "li.catalog-card > div.catalog-card-foot > button.catalog-add") {
		t.Errorf("a changed label: %v", d)
	}
}
