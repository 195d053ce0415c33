package shell_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

// TestPageBatchesFastFragments: a page's fragments from one host come
// over one connection, and the page is the same.
func TestPageBatchesFastFragments(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var from []string // the client address of each request, in order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		from = append(from, r.RemoteAddr)
		mu.Unlock()
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		w.Write([]byte(strings.ToUpper(name)))
	}))
	defer srv.Close()
	frontends := map[string]shell.Frontend{}
	for _, name := range []string{"header", "recs", "catalog"} {
		inv, err := invoke.HTTP(srv.URL+"/"+name, invoke.HTTPOptions{})
		if err != nil {
			t.Fatal(err)
		}
		frontends[name] = shell.Frontend{Invoker: inv}
	}
	sh := newShell(t, shell.Options{
		Routes:    []shell.Route{{Pattern: "/products/{id}", Layout: parse(t, "product.html", productLayout)}},
		Frontends: frontends,
		Registry:  registry.New(snapshot()),
		Log:       slog.New(slog.DiscardHandler),
	})
	// On a busy machine an answer may take long enough for the requests
	// behind it to go alone: a later page then shows the batch.
	var first string
	for i := range 200 {
		mu.Lock()
		from = from[:0]
		mu.Unlock()
		status, page := render(t, sh, 0, &compose.Request{Path: "/products/7", Params: "id=7", Nonce: "n"})
		if status != 200 || !strings.Contains(page, ">HEADER<") || !strings.Contains(page, ">RECS<") || !strings.Contains(page, ">CATALOG<") {
			t.Fatalf("page %d: %d\n%s", i, status, page)
		}
		if i == 0 {
			first = page
		} else if page != first {
			t.Fatalf("page %d differs:\n%s\nthe first:\n%s", i, page, first)
		}
		mu.Lock()
		one := len(from) == 3 && from[0] == from[1] && from[1] == from[2]
		mu.Unlock()
		if one {
			return
		}
	}
	t.Error("no page's requests came over one connection")
}
