package cart

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/shopdata"
)

// CookieName is the cookie that holds the cart's session id.
const CookieName = "collage_cart"

// MaxQty is the most of one product a cart holds.
const MaxQty = 99

//go:embed templates/*.html
var templates embed.FS

var tmpl = template.Must(template.ParseFS(templates, "templates/*.html")).Lookup("cart.html")

// Item is one line of a cart.
type Item struct {
	ProductID     string `json:"productId"`
	Name          string `json:"name"`
	Price         int    `json:"price"` // in cents
	PriceText     string `json:"priceText"`
	Qty           int    `json:"qty"`
	LineTotal     int    `json:"lineTotal"` // Price × Qty, in cents
	LineTotalText string `json:"lineTotalText"`
	Color         string `json:"color"` // of the product's placeholder image
	Emoji         string `json:"emoji"`
}

// Cart is what a shopper has chosen, in the order they added it.
type Cart struct {
	Items     []Item `json:"items"`
	Count     int    `json:"count"` // the sum of the items' quantities
	Total     int    `json:"total"` // in cents
	TotalText string `json:"totalText"`
}

// AddItem is the body of POST /items: it adds Qty of a product to the cart.
type AddItem struct {
	ProductID string `json:"productId"`
	Qty       int    `json:"qty"`
}

// Validate checks that the product exists and the quantity is sensible.
func (a AddItem) Validate() error {
	if _, ok := shopdata.ProductByID(a.ProductID); !ok {
		return bff.BadRequest("productId", "No product with id %q", a.ProductID)
	}
	if a.Qty < 1 || a.Qty > MaxQty {
		return bff.BadRequest("qty", "Quantity must be between 1 and %d, not %d", MaxQty, a.Qty)
	}
	return nil
}

// RemoveItem names the product DELETE /items/{productId} removes.
type RemoveItem struct {
	ProductID string `path:"productId"`
}

// New returns the cart BFF, with an empty store. It has no settings.
func New(bff.Settings) (*bff.BFF, error) {
	b := bff.New("cart")
	s := newStore(maxCarts)
	bff.Handle(b, "GET /cart", func(ctx context.Context, _ struct{}) (Cart, error) {
		noStore(ctx)
		return s.get(session(ctx)), nil
	})
	bff.Handle(b, "POST /items", func(ctx context.Context, in AddItem) (Cart, error) {
		noStore(ctx)
		return s.add(session(ctx), in.ProductID, in.Qty)
	})
	bff.Handle(b, "DELETE /items/{productId}", func(ctx context.Context, in RemoveItem) (Cart, error) {
		noStore(ctx)
		return s.remove(session(ctx), in.ProductID), nil
	})
	bff.Fragment(b, tmpl, func(ctx context.Context, _ *bff.FragmentRequest) (Cart, error) {
		// A shared cache must never hand one shopper's cart to another.
		noStore(ctx)
		id, _ := sessionID(ctx)
		return s.get(id), nil
	})
	return b, nil
}

func noStore(ctx context.Context) {
	bff.SetHeader(ctx, "Cache-Control", "private, no-store")
}

// session returns the request's session id, starting a session with a new
// cookie when the request has none.
func session(ctx context.Context) string {
	if id, ok := sessionID(ctx); ok {
		return id
	}
	id := newSessionID()
	bff.SetCookie(ctx, &http.Cookie{
		Name:     CookieName,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return id
}

// sessionID returns the session id of the request's cookie, if it has a
// well-formed one.
func sessionID(ctx context.Context) (string, bool) {
	id, ok := bff.Cookie(ctx, CookieName)
	if !ok || len(id) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return id, true
}

// newSessionID returns 128 random bits in hex.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

var _ bff.Factory = New
