package shopdata

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/internal/golden"
)

// art is the folder of the products' pictures, which the demo frontends
// import: one hand-drawn SVG per product, ID.svg, and art.css.
var art = filepath.Join("..", "..", "product-art")

// TestArt writes art.css from the catalogue (UPDATE_GOLDEN=1 rewrites it)
// and checks every product has its picture. The pictures are files, drawn
// with shapes, so that they show on any machine: a page's CSP allows images
// from its own origin and styles from files only, and an emoji needs a font
// the machine may not have. The server's templates and the frontends both
// write <span class="product-art product-art-ID">, so they render the same.
func TestArt(t *testing.T) {
	t.Parallel()
	var css strings.Builder
	css.WriteString(`/* The demo products' pictures: each product's drawing on its colour.
 * Written by frontends/internal/shopdata's tests from the catalogue (UPDATE_GOLDEN=1
 * go test ./frontends/internal/shopdata/); the frontends that show products import it and
 * size .product-art. The drawing is the ::after, so a frontend may put a
 * ::before under it. */
.product-art {
  position: relative;
}

.product-art::after {
  content: "";
  position: absolute;
  inset: 18%;
  background: center / contain no-repeat;
}
`)
	for _, p := range Products() {
		if _, err := os.Stat(filepath.Join(art, p.ID+".svg")); err != nil {
			t.Errorf("%s (%s) has no picture: %v", p.ID, p.Name, err)
		}
		fmt.Fprintf(&css, "\n/* %s */\n.product-art-%s {\n  background-color: %s;\n}\n\n.product-art-%s::after {\n  background-image: url(\"./%s.svg\");\n}\n",
			p.Name, p.ID, p.Color, p.ID, p.ID)
	}
	golden.Check(t, filepath.Join(art, "art.css"), []byte(css.String()))
}
