// Package bff is the contract between a frontend team and collage: a
// backend-for-frontend written as plain typed Go functions.
//
// A BFF is a set of functions of the form func(context.Context, In) (Out, error),
// each routed by method and path pattern, plus an optional fragment renderer
// that produces the server-side HTML of the frontend's slot. The runtime does
// the HTTP plumbing: it decodes path values, query parameters and JSON bodies
// into In, encodes Out as JSON, turns an *Error into its status code, recovers
// panics into a 500, and lets a function read and set cookies through its
// context.
//
// A body is JSON only when its Content-Type says application/json: any other
// type, or a non-empty body without one, is a 415, so a cross-site form or
// text/plain post never reaches a function. The runtime reads a body as a
// stream and never more than BFF.MaxBodyBytes (1 MiB unless set) plus one
// byte: past it the answer is a 413. The bound holds wherever the BFF runs,
// since over HTTP or Lambda nothing in front of it need bound the body.
//
// A BFF keeps data between requests in its State (BFF.State): byte values
// under keys, each with an optional time to live, and an atomic Update.
// The State is the BFF's own, in the namespace of its name: no BFF reaches
// another's keys. Whoever runs the BFF gives it the store (BFF.UseState):
// the shell keeps the state of the BFFs linked into it in memory
// (MemState), and a bootstrap on Lambda in Redis, which all its instances
// share. A BFF given no store keeps its state in memory of its own.
//
// A *BFF is an http.Handler, so one value is served in every place a BFF runs:
// called in-process by the shell, as a local HTTP server, or inside AWS Lambda
// behind an event codec. Nothing in a BFF knows which.
//
//	b := bff.New("cart")
//	carts := b.State()
//	bff.Handle(b, "POST /items", func(ctx context.Context, in AddItem) (Cart, error) {
//		if in.Qty <= 0 {
//			return Cart{}, bff.BadRequest("qty", "must be at least 1")
//		}
//		v, err := carts.Update(ctx, sessionOf(ctx), week, func(old []byte, ok bool) ([]byte, error) {
//			return addTo(old, in)
//		})
//		return cartOf(v), err
//	})
//	bff.Fragment(b, tmpl, func(ctx context.Context, f *bff.FragmentRequest) (Cart, error) {
//		v, _, err := carts.Touch(ctx, sessionOf(ctx), week)
//		return cartOf(v), err
//	})
package bff
