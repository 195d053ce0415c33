package cache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// visit is one browser's request in a sequence, and what it must get.
type visit struct {
	who    string      // whose fragment it must get: a user, or "anonymous"
	header http.Header // what the browser sends
	cached bool        // whether it must come from the cache
}

func alice() http.Header { return http.Header{"Cookie": {"session=alice"}} }
func bob() http.Header   { return http.Header{"Cookie": {"session=bob"}} }
func anon() http.Header  { return http.Header{} }

// TestAliceBob runs the visits of each case through the cache, the real
// fetcher and HTTP invoker, and a fragment server on 127.0.0.1 that names
// the user whose session cookie, Authorization, X-Api-Key or User-Agent it
// received.
func TestAliceBob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cc, vary    string
		credentials []string // Options.Credentials
		visits      []visit
	}{
		{"max-age, no Vary: never shared between users", "max-age=300", "", nil, []visit{
			{"alice", alice(), false}, {"bob", bob(), false}, {"alice", alice(), false}}},
		{"public without Vary: Cookie: never shared", "public, max-age=300", "", nil, []visit{
			{"alice", alice(), false}, {"bob", bob(), false}}},
		{"public with Vary: Cookie: each user their own", "public, max-age=300", "Cookie", nil, []visit{
			{"alice", alice(), false}, {"bob", bob(), false}, {"alice", alice(), true}, {"bob", bob(), true}}},
		{"anonymous requests share", "max-age=300", "", nil, []visit{
			{"anonymous", anon(), false}, {"anonymous", anon(), true}, {"alice", alice(), false}, {"anonymous", anon(), true}}},
		{"a cached anonymous fragment is not a user's", "public, max-age=300", "Cookie", nil, []visit{
			{"anonymous", anon(), false}, {"alice", alice(), false}, {"anonymous", anon(), true}, {"alice", alice(), true}}},
		{"Authorization not in Vary: never shared", "public, max-age=300", "Cookie", nil, []visit{
			{"carol", http.Header{"Authorization": {"Bearer carol"}}, false},
			{"dave", http.Header{"Authorization": {"Bearer dave"}}, false}}},
		{"Vary: Cookie does not cover Authorization", "public, max-age=300", "Cookie", nil, []visit{
			{"carol", http.Header{"Authorization": {"Bearer carol"}, "Cookie": {"theme=dark"}}, false},
			{"dave", http.Header{"Authorization": {"Bearer dave"}, "Cookie": {"theme=dark"}}, false}}},
		{"a header not known to be anonymous", "max-age=300", "", nil, []visit{
			{"erin", http.Header{"X-Api-Key": {"erin"}}, false}, {"frank", http.Header{"X-Api-Key": {"frank"}}, false}}},
		{"a header not known to be anonymous, in Vary", "public, max-age=300", "X-Api-Key", nil, []visit{
			{"erin", http.Header{"X-Api-Key": {"erin"}}, false}, {"frank", http.Header{"X-Api-Key": {"frank"}}, false},
			{"erin", http.Header{"X-Api-Key": {"erin"}}, true}}},
		{"an anonymous header", "max-age=300", "", nil, []visit{
			{"anonymous", http.Header{"Accept-Language": {"en"}, "X-Request-Id": {"1"}}, false},
			{"anonymous", http.Header{"Accept-Language": {"en"}, "X-Request-Id": {"2"}}, true}}},
		{"an anonymous header the options name", "max-age=300", "", []string{"user-agent"}, []visit{
			{"gina", http.Header{"User-Agent": {"user/gina"}}, false}, {"hugo", http.Header{"User-Agent": {"user/hugo"}}, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var fetches atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				who := "anonymous"
				if c, err := r.Cookie("session"); err == nil {
					who = c.Value
				} else if a := r.Header.Get("Authorization"); a != "" {
					who = strings.TrimPrefix(a, "Bearer ")
				} else if k := r.Header.Get("X-Api-Key"); k != "" {
					who = k
				} else if ua, ok := strings.CutPrefix(r.Header.Get("User-Agent"), "user/"); ok {
					who = ua
				}
				w.Header().Set("Cache-Control", tt.cc)
				if tt.vary != "" {
					w.Header().Set("Vary", tt.vary)
				}
				fmt.Fprintf(w, "<p>cart of %s, fetch %d</p>", who, fetches.Add(1))
			}))
			t.Cleanup(srv.Close)
			inv, err := invoke.HTTP(srv.URL, invoke.HTTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			next := shell.NewFetcher(shell.NewReleases(map[string]shell.Frontend{"cart": {Invoker: inv}}, nil), 0)
			f := New(next, Options{Credentials: tt.credentials})
			cart := &layout.Slot{Frontend: "cart", Timeout: 10 * time.Second}
			for i, v := range tt.visits {
				res := f.Fetch(context.Background(), cart, &compose.Request{Path: "/cart", Header: v.header})
				if res.Err != nil {
					t.Fatalf("visit %d: %v", i, res.Err)
				}
				if want := "<p>cart of " + v.who + ","; !strings.HasPrefix(string(res.Body), want) {
					t.Errorf("visit %d (%s) got %q, want %s's fragment", i, v.who, res.Body, v.who)
				}
				if got := res.Outcome == compose.Cached; got != v.cached {
					t.Errorf("visit %d (%s): cached = %v, want %v", i, v.who, got, v.cached)
				}
			}
		})
	}
}

// TestCredentialSpelling: a credential header is one whatever the case of
// its name in the request's header map.
func TestCredentialSpelling(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Cookie", "cookie", "COOKIE", "authorization", "x-API-key"} {
		u := &upstream{header: http.Header{"Cache-Control": {"max-age=60"}}}
		f := New(u, Options{NoCollapse: true})
		f.Fetch(context.Background(), slot, &compose.Request{Path: "/", Header: http.Header{name: {"alice"}}})
		res := f.Fetch(context.Background(), slot, &compose.Request{Path: "/", Header: http.Header{name: {"bob"}}})
		if res.Outcome == compose.Cached || u.calls.Load() != 2 {
			t.Errorf("%s: a user's request was answered from the cache (%d upstream calls)", name, u.calls.Load())
		}
	}
}

// TestNoCollapseWithCredentials: requests that carry credentials are never
// collapsed, even with the same value, and even for a public fragment.
func TestNoCollapseWithCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
	}{
		{"cookie", http.Header{"Cookie": {"session=alice"}}},
		{"empty cookie", http.Header{"Cookie": {""}}},
		{"authorization", http.Header{"Authorization": {"Bearer alice"}}},
		{"named credential", http.Header{"X-Api-Key": {"alice"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := &upstream{release: make(chan struct{}), header: http.Header{"Cache-Control": {"public, max-age=60"}, "Vary": {"Cookie, Authorization, X-Api-Key"}}}
			f := New(u, Options{NoCache: true})
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					f.Fetch(context.Background(), slot, &compose.Request{Path: "/", Header: tt.header.Clone()})
				})
			}
			deadline := time.Now().Add(10 * time.Second)
			for u.calls.Load() < 2 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			close(u.release)
			wg.Wait()
			if n := u.calls.Load(); n != 2 {
				t.Errorf("%d upstream calls for two requests with credentials, want 2", n)
			}
		})
	}
}
