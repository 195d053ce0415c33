package shell_test

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/layout"
)

// recorder is a fetcher that records the header each frontend's slot was
// fetched with, and answers with a fixed result.
type recorder struct {
	mu   sync.Mutex
	seen map[string]http.Header
	res  compose.Result
}

func (r *recorder) Fetch(_ context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]http.Header{}
	}
	r.seen[slot.Frontend] = req.Header
	return r.res
}

// credentialFrontends are three frontends: alpha declares a cookie and
// Authorization, beta two cookies and an API key, gamma nothing.
func credentialFrontends() map[string]shell.Frontend {
	return map[string]shell.Frontend{
		"alpha": {Cookies: []string{"alpha_session"}, Headers: []string{"authorization"}},
		"beta":  {Cookies: []string{"beta_session", "theme"}, Headers: []string{"X-Api-Key"}},
		"gamma": {},
	}
}

const credentialLayout = `<head></head><collage-slot frontend=alpha primary></collage-slot>` +
	`<collage-slot frontend=beta></collage-slot><collage-slot frontend=gamma></collage-slot>` +
	`<collage-slot frontend=beta name=second></collage-slot>`

func TestScopeFragmentRequests(t *testing.T) {
	t.Parallel()
	base := http.Header{"Accept-Language": {"de-CH"}, "X-Request-Id": {"req-1"}}
	with := func(kv ...string) http.Header {
		h := base.Clone()
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = []string{kv[i+1]}
		}
		return h
	}
	tests := []struct {
		name   string
		header http.Header
		want   map[string]http.Header // by frontend
	}{
		{
			name:   "no credentials",
			header: base,
			want:   map[string]http.Header{"alpha": base, "beta": base, "gamma": base},
		},
		{
			name:   "each frontend its own cookies",
			header: with("Cookie", "_ga=1; alpha_session=A; theme=dark;beta_session=B ; other=x"),
			want: map[string]http.Header{
				"alpha": with("Cookie", "alpha_session=A"),
				"beta":  with("Cookie", "theme=dark; beta_session=B"),
				"gamma": base,
			},
		},
		{
			name:   "a cookie twice, as browsers send one per path",
			header: with("Cookie", "theme=dark; theme=light"),
			want:   map[string]http.Header{"alpha": base, "beta": with("Cookie", "theme=dark; theme=light"), "gamma": base},
		},
		{
			name:   "no declared cookie among the browser's",
			header: with("Cookie", "_ga=1; alpha_sessionX=A; Theme=dark"),
			want:   map[string]http.Header{"alpha": base, "beta": base, "gamma": base},
		},
		{
			name:   "headers only to those that declare them",
			header: with("Authorization", "Bearer t", "X-Api-Key", "k1", "X-Other", "o"),
			want: map[string]http.Header{
				"alpha": with("Authorization", "Bearer t"),
				"beta":  with("X-Api-Key", "k1"),
				"gamma": base,
			},
		},
		{
			name:   "only credentials",
			header: http.Header{"Cookie": {"beta_session=B"}, "Authorization": {"Bearer t"}},
			want: map[string]http.Header{
				"alpha": {"Authorization": {"Bearer t"}},
				"beta":  {"Cookie": {"beta_session=B"}},
				"gamma": {},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{res: compose.Result{Status: 200, Body: []byte("x")}}
			sh := newShell(t, shell.Options{
				Routes:    []shell.Route{{Pattern: "/", Layout: parse(t, "p.html", credentialLayout)}},
				Frontends: credentialFrontends(),
				Fetcher:   rec,
				Log:       slog.New(slog.DiscardHandler),
			})
			before := tt.header.Clone()
			render(t, sh, 0, &compose.Request{Path: "/", Header: tt.header})
			for name, want := range tt.want {
				if got := rec.seen[name]; !equalHeader(got, want) {
					t.Errorf("%s was fetched with %v, want %v", name, got, want)
				}
			}
			if !equalHeader(tt.header, before) {
				t.Errorf("the page's header changed: %v, was %v", tt.header, before)
			}
		})
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// TestScopeReachesBFF checks what an in-process BFF reads of its
// credentials, through the default fetcher.
func TestScopeReachesBFF(t *testing.T) {
	t.Parallel()
	type got struct{ cookie, alpha, beta, auth string }
	var mu sync.Mutex
	seen := map[string]got{}
	spy := func(name string) invoke.Invoker {
		b := bff.New(name)
		bff.Fragment(b, template.Must(template.New("").Parse(`ok`)), func(ctx context.Context, _ *bff.FragmentRequest) (string, error) {
			a, _ := bff.Cookie(ctx, "alpha_session")
			be, _ := bff.Cookie(ctx, "beta_session")
			mu.Lock()
			seen[name] = got{bff.Header(ctx, "Cookie"), a, be, bff.Header(ctx, "Authorization")}
			mu.Unlock()
			return "", nil
		})
		return invoke.Local(b)
	}
	frontends := credentialFrontends()
	for name, f := range frontends {
		f.Invoker = spy(name)
		frontends[name] = f
	}
	sh := newShell(t, shell.Options{
		Routes:    []shell.Route{{Pattern: "/", Layout: parse(t, "p.html", credentialLayout)}},
		Frontends: frontends,
		Log:       slog.New(slog.DiscardHandler),
	})
	render(t, sh, 0, &compose.Request{Path: "/", Header: http.Header{
		"Cookie": {"alpha_session=A; beta_session=B"}, "Authorization": {"Bearer t"},
	}})
	want := map[string]got{
		"alpha": {cookie: "alpha_session=A", alpha: "A", auth: "Bearer t"},
		"beta":  {cookie: "beta_session=B", beta: "B"},
		"gamma": {},
	}
	for name, w := range want {
		if seen[name] != w {
			t.Errorf("%s's BFF read %+v, want %+v", name, seen[name], w)
		}
	}
}

func TestPrimarySetsOnlyItsCookies(t *testing.T) {
	t.Parallel()
	shared := http.Header{"Set-Cookie": {
		"alpha_session=new; Path=/; HttpOnly",
		"beta_session=stolen; Path=/",
		"alpha_session_x=1",
		"garbage without a name",
		" alpha_session=again",
	}}
	tests := []struct {
		name    string
		layout  string
		header  http.Header
		want    []string
		dropped []string // cookie names logged
	}{
		{
			name:    "primary that declares a cookie",
			layout:  `<collage-slot frontend=alpha primary></collage-slot>`,
			want:    []string{"alpha_session=new; Path=/; HttpOnly", " alpha_session=again"},
			dropped: []string{"beta_session", "alpha_session_x", "(malformed)"},
		},
		{
			name:    "primary that declares none",
			layout:  `<collage-slot frontend=gamma primary></collage-slot>`,
			dropped: []string{"alpha_session", "beta_session", "alpha_session_x", "(malformed)", "alpha_session"},
		},
		{
			name:    "with credentials in the request",
			layout:  `<collage-slot frontend=alpha primary></collage-slot>`,
			header:  http.Header{"Cookie": {"alpha_session=old"}},
			want:    []string{"alpha_session=new; Path=/; HttpOnly", " alpha_session=again"},
			dropped: []string{"beta_session", "alpha_session_x", "(malformed)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rec := &recorder{res: compose.Result{Status: 200, Header: shared, Body: []byte("x")}}
			sh := newShell(t, shell.Options{
				Routes:    []shell.Route{{Pattern: "/", Layout: parse(t, "p.html", tt.layout)}},
				Frontends: credentialFrontends(),
				Fetcher:   rec,
				Log:       slog.New(slog.NewTextHandler(&logs, nil)),
			})
			r, done := sh.Compose(sh.Pages()[0], &compose.Request{Path: "/", ID: "req-9", Header: tt.header})
			_, h := r.Status()
			done()
			if got := h.Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Set-Cookie = %q, want %q", got, tt.want)
			}
			if len(shared["Set-Cookie"]) != 5 {
				t.Errorf("the fetcher's own header was changed: %q", shared["Set-Cookie"])
			}
			var names []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if !strings.Contains(line, "Set-Cookie") {
					continue
				}
				if !strings.Contains(line, "request_id=req-9") || !strings.Contains(line, "frontend=") {
					t.Errorf("log line %q lacks the request id or the frontend", line)
				}
				_, name, _ := strings.Cut(line, "cookie=")
				names = append(names, strings.Trim(name, `"`))
			}
			if strings.Join(names, ",") != strings.Join(tt.dropped, ",") {
				t.Errorf("logged drops of %q, want %q", names, tt.dropped)
			}
			for _, secret := range []string{"new", "stolen", "again", "garbage"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the log shows the value %q:\n%s", secret, logs.String())
				}
			}
		})
	}
}

func TestScopeCall(t *testing.T) {
	t.Parallel()
	sh := newShell(t, shell.Options{Frontends: credentialFrontends(), Log: slog.New(slog.DiscardHandler)})
	if got := strings.Join(sh.Credentials(), ","); got != "Cookie,Authorization,X-Api-Key" {
		t.Errorf("Credentials() = %s", got)
	}
	in := http.Header{
		"Cookie": {"alpha_session=A; beta_session=B; theme=dark"}, "Authorization": {"Bearer t"}, "X-Api-Key": {"k"},
		"Content-Type": {"application/json"}, "Accept": {"*/*"}, "X-Request-Id": {"r"}, "X-Private": {"p"},
	}
	public := http.Header{"Content-Type": {"application/json"}, "Accept": {"*/*"}, "X-Request-Id": {"r"}}
	with := func(kv ...string) http.Header {
		h := public.Clone()
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = []string{kv[i+1]}
		}
		return h
	}
	for name, want := range map[string]http.Header{
		"alpha":   with("Cookie", "alpha_session=A", "Authorization", "Bearer t"),
		"beta":    with("Cookie", "beta_session=B; theme=dark", "X-Api-Key", "k"),
		"gamma":   public,
		"unknown": public,
	} {
		h := in.Clone()
		sh.ScopeCall(name, h)
		if !equalHeader(h, want) {
			t.Errorf("a /bff call to %s carries %v, want %v", name, h, want)
		}
	}
}

func TestSetCookies(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	sh := newShell(t, shell.Options{Frontends: credentialFrontends(), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	tests := []struct {
		frontend string
		in, want []string
	}{
		{"beta", []string{"theme=dark", "beta_session=s; HttpOnly"}, []string{"theme=dark", "beta_session=s; HttpOnly"}},
		{"beta", []string{"alpha_session=x", "theme=dark"}, []string{"theme=dark"}},
		{"gamma", []string{"theme=dark"}, nil},
		{"alpha", nil, nil},
	}
	for _, tt := range tests {
		if got := sh.SetCookies(tt.frontend, "req-3", tt.in); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("SetCookies(%s, %q) = %q, want %q", tt.frontend, tt.in, got, tt.want)
		}
	}
	for _, want := range []string{"frontend=beta cookie=alpha_session", "frontend=gamma cookie=theme"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestNewRefusesDeclarations(t *testing.T) {
	t.Parallel()
	for f, want := range map[*shell.Frontend]string{
		{Cookies: []string{"a b"}}:           `frontend x: cookie name "a b" is not a token`,
		{Headers: []string{"Cookie"}}:        "frontend x: header Cookie cannot be declared",
		{Headers: []string{"x-request-id"}}:  "frontend x: header X-Request-Id cannot be declared: every BFF receives it",
		{Headers: []string{"Upgrade"}}:       "frontend x: header Upgrade cannot be declared: it is hop-by-hop",
		{Headers: []string{"If-None-Match"}}: "frontend x: header If-None-Match cannot be declared: every /bff call carries it",
	} {
		_, err := shell.New(shell.Options{Frontends: map[string]shell.Frontend{"x": *f}})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("New with %+v = %v, want %s", *f, err, want)
		}
	}
}
