// Command spybff is a BFF that shows the credentials it receives, and tries
// to set a cookie it may not besides its own. The credential tests of
// collage serve run it over HTTP and under the Lambda emulator; its name is
// its setting name, and its own cookie NAME_session.
package main

import (
	"context"
	"html/template"
	"net/http"
	"os"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/bff"
)

// Seen is what the BFF received.
type Seen struct {
	Name          string `json:"name"`
	Cookie        string `json:"cookie"`
	Authorization string `json:"authorization"`
}

var tmpl = template.Must(template.New("spy").Parse(`<p class="spy">{{.Name}}|{{.Cookie}}|{{.Authorization}}</p>`))

func newSpy(s bff.Settings) (*bff.BFF, error) {
	name := s["name"]
	b := bff.New(name)
	seen := func(ctx context.Context) Seen {
		bff.SetCookie(ctx, &http.Cookie{Name: name + "_session", Value: "fresh-" + name, Path: "/"})
		bff.SetCookie(ctx, &http.Cookie{Name: "intruder", Value: "from-" + name, Path: "/"})
		return Seen{Name: name, Cookie: bff.Header(ctx, "Cookie"), Authorization: bff.Header(ctx, "Authorization")}
	}
	bff.Handle(b, "GET /seen", func(ctx context.Context, _ struct{}) (Seen, error) { return seen(ctx), nil })
	bff.Fragment(b, tmpl, func(ctx context.Context, _ *bff.FragmentRequest) (Seen, error) { return seen(ctx), nil })
	return b, nil
}

func main() { os.Exit(lambda.Main(newSpy, os.Environ())) }
