package cart

import (
	"context"
	"embed"
	"html/template"
	"log/slog"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
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

// New returns the cart BFF. Its carts are in the BFF's State, which the
// runtime gives (bff.BFF.UseState). Its one setting, session_key, is the
// key that signs session ids, as hex of at least 32 bytes; without it
// the BFF draws a key of its own and logs that its sessions end with the
// process.
func New(s bff.Settings) (*bff.BFF, error) {
	return newCart(s, slog.Default())
}

// newCart returns the cart BFF, logging to log while it starts.
func newCart(s bff.Settings, log *slog.Logger) (*bff.BFF, error) {
	key, set, err := sessionKey(s)
	if err != nil {
		return nil, err
	}
	if !set {
		log.Warn("cart: no session_key setting, so sessions are signed with a key drawn at start: " +
			"carts will not survive a restart or be shared between processes")
	}
	sg := signer{key: key}
	b := bff.New("cart")
	st := store{state: b.State()}
	bff.Handle(b, "GET /cart", func(ctx context.Context, _ struct{}) (Cart, error) {
		noStore(ctx)
		return st.get(ctx, sg.session(ctx))
	})
	bff.Handle(b, "POST /items", func(ctx context.Context, in AddItem) (Cart, error) {
		noStore(ctx)
		return st.add(ctx, sg.session(ctx), in.ProductID, in.Qty)
	})
	bff.Handle(b, "DELETE /items/{productId}", func(ctx context.Context, in RemoveItem) (Cart, error) {
		noStore(ctx)
		return st.remove(ctx, sg.session(ctx), in.ProductID)
	})
	bff.Fragment(b, tmpl, func(ctx context.Context, _ *bff.FragmentRequest) (Cart, error) {
		// A shared cache must never hand one shopper's cart to another.
		noStore(ctx)
		// Only the API starts sessions: a page view without a cookie
		// shows an empty cart and stores nothing.
		id, ok := sg.sessionOf(ctx)
		if !ok {
			return cartOf(nil), nil
		}
		return st.get(ctx, visit{id: id, returning: true})
	})
	return b, nil
}

func noStore(ctx context.Context) {
	bff.SetHeader(ctx, "Cache-Control", "private, no-store")
}

var _ bff.Factory = New
