package header

import (
	"context"
	"embed"
	"html/template"
	"net/url"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/frontends/internal/shopdata"
)

//go:embed templates/*.html
var templates embed.FS

var tmpl = template.Must(template.ParseFS(templates, "templates/*.html")).Lookup("header.html")

// Link is one entry of the main navigation.
type Link struct {
	Href    string `json:"href"`
	Label   string `json:"label"`
	Current bool   `json:"current"` // the link leads to the page being shown
}

// Nav is the main navigation of a page.
type Nav struct {
	Links []Link `json:"links"`
}

// NavQuery asks for the navigation of the page at Path.
type NavQuery struct {
	Path string `query:"path"` // the page's path and query, "/?category=desk"
}

// view is what the fragment template renders.
type view struct {
	Nav
	Count int `json:"count"` // items in the cart
}

// New returns the header BFF. It has no settings.
func New(bff.Settings) (*bff.BFF, error) {
	b := bff.New("header")
	bff.Handle(b, "GET /nav", func(_ context.Context, q NavQuery) (Nav, error) {
		u, err := url.ParseRequestURI(q.Path)
		if q.Path == "" || err != nil {
			return navFor("", nil), nil
		}
		return navFor(u.Path, u.Query()), nil
	})
	bff.Fragment(b, tmpl, func(_ context.Context, f *bff.FragmentRequest) (view, error) {
		return view{Nav: navFor(f.Path, f.Query)}, nil
	})
	return b, nil
}

// navFor returns the navigation of the page at path with query, marking
// the link to the category being shown.
func navFor(path string, query url.Values) Nav {
	current, home := "", path == "/"
	if home {
		current = query.Get("category")
	}
	links := []Link{{Href: "/", Label: "All products", Current: home && current == ""}}
	for _, c := range shopdata.Categories {
		links = append(links, Link{
			Href:    "/?" + url.Values{"category": {c.Slug}}.Encode(),
			Label:   c.Name,
			Current: home && current == c.Slug,
		})
	}
	return Nav{Links: links}
}

var _ bff.Factory = New
