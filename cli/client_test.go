package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/registry"
)

// fakeShell answers the publish API of docs/API.md from memory: enough of
// it to unit-test what the commands send and print. The API's own tests
// run the real one.
type fakeShell struct {
	URL string

	mu        sync.Mutex
	revision  uint64
	frontends map[string]*fakeFrontend
	history   []registry.Change
	tokens    []fakeToken
	requests  []fakeRequest
	refuse    *bff.Error // when set, the answer to every upload
}

// fakeNow is the fake shell's clock: after the changes seed makes, the
// same in every run, so that a rollback to a time finds the same history.
var fakeNow = time.Date(2026, 11, 30, 11, 20, 0, 0, time.UTC)

type fakeFrontend struct {
	active   string
	versions []version
}

type fakeToken struct {
	apiToken
	secret string
}

// A fakeRequest is one call the fake received.
type fakeRequest struct {
	Method, Target, Auth, ContentType string
	Body                              []byte
}

// The fake's tokens: adminSecret does anything, cartSecret publishes cart.
const (
	adminSecret = "collage_admin"
	cartSecret  = "collage_cart"
)

func newFakeShell(t *testing.T) *fakeShell {
	t.Helper()
	f := &fakeShell{
		frontends: map[string]*fakeFrontend{"cart": {}, "header": {}, "recs": {}},
		tokens: []fakeToken{
			{apiToken{ID: "a0a0a0a0a0a0", Name: "admin", Frontends: []string{"*"}, Can: []string{"admin"}, CreatedBy: "serve",
				CreatedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}, adminSecret},
			{apiToken{ID: "c0c0c0c0c0c0", Name: "cart ci", Frontends: []string{"cart"}, Can: []string{"publish"}, CreatedBy: "admin (a0a0a0a0a0a0)",
				CreatedAt: time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 12, 30, 9, 30, 0, 0, time.UTC)}, cartSecret},
		},
	}
	mux := http.NewServeMux()
	for pattern, h := range map[string]func(*http.Request) (int, any, error){
		"POST /_collage/api/frontends/{name}/versions":              f.upload,
		"GET /_collage/api/frontends/{name}/versions":               f.list,
		"POST /_collage/api/frontends/{name}/promote":               f.promote,
		"POST /_collage/api/frontends/{name}/rollback":              f.rollback,
		"POST /_collage/api/frontends/{name}/versions/{label}/yank": f.yank,
		"POST /_collage/api/rollback":                               f.rollbackAll,
		"GET /_collage/api/history":                                 f.listHistory,
		"POST /_collage/api/tokens":                                 f.createToken,
		"GET /_collage/api/tokens":                                  f.listTokens,
		"DELETE /_collage/api/tokens/{id}":                          f.revokeToken,
	} {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			f.mu.Lock()
			defer f.mu.Unlock()
			f.requests = append(f.requests, fakeRequest{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
			status, out, err := h(r)
			if err != nil {
				var e *bff.Error
				if !errors.As(err, &e) {
					e = &bff.Error{Code: bff.CodeBadRequest, Message: err.Error()}
				}
				if e.Code == "unauthorized" {
					w.Header().Set("WWW-Authenticate", `Bearer realm="collage"`)
				}
				bff.WriteError(w, e)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(out)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// calls is how many calls the fake received.
func (f *fakeShell) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// lastRequest is the last call the fake received.
func (f *fakeShell) lastRequest() fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return fakeRequest{}
	}
	return f.requests[len(f.requests)-1]
}

func fakeError(code, format string, a ...any) error {
	return &bff.Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// authorize returns who the request's token is, if it may do can on
// frontend ("" for a global action).
func (f *fakeShell) authorize(r *http.Request, frontend, can string) (string, error) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	i := slices.IndexFunc(f.tokens, func(t fakeToken) bool { return t.secret == secret })
	if !ok || i < 0 {
		return "", fakeError("unauthorized", "missing or unknown token")
	}
	t := f.tokens[i]
	by := describeToken(t.apiToken)
	if slices.Contains(t.Can, "admin") || slices.Contains(t.Can, can) && (slices.Contains(t.Frontends, frontend) || slices.Contains(t.Frontends, "*")) {
		return by, nil
	}
	return "", fakeError(bff.CodeForbidden, "token %s may not %s %s", by, can, frontend)
}

func (f *fakeShell) frontend(name string) (*fakeFrontend, error) {
	fr, ok := f.frontends[name]
	if !ok {
		return nil, fakeError(bff.CodeNotFound, "no frontend %s in collage.yaml", name)
	}
	return fr, nil
}

func (f *fakeShell) record(c registry.Change) registry.Change {
	f.history = append(f.history, c)
	return c
}

// publish adds a version; the tests also seed the fake with it.
func (f *fakeShell) publish(fr *fakeFrontend, v version, at time.Time) {
	f.revision++
	v.PublishedAt = at
	fr.versions = append(fr.versions, v)
	f.record(registry.Change{Revision: f.revision, At: at, By: v.PublishedBy, Kind: registry.KindPublish, Frontend: v.Frontend, Label: v.Label})
}

// activate makes label active, as promote and rollback do.
func (f *fakeShell) activate(name, label, expect, kind, by string, at time.Time) (registry.Change, error) {
	fr, err := f.frontend(name)
	if err != nil {
		return registry.Change{}, err
	}
	i := slices.IndexFunc(fr.versions, func(v version) bool { return v.Label == label })
	if i < 0 {
		return registry.Change{}, fakeError(bff.CodeNotFound, "%s has no version %s", name, label)
	}
	if fr.versions[i].Yanked {
		return registry.Change{}, fakeError("conflict", "%s %s is yanked: it is never served again", name, label)
	}
	if expect != "" && fr.active != expect {
		return registry.Change{}, fakeError("precondition_failed", "%s: expected %s active, found %s: another change got there first", name, expect, cmpOr(fr.active, "none"))
	}
	c := registry.Change{Revision: f.revision, At: at, By: by, Kind: kind, Frontend: name, Label: label, From: fr.active}
	if fr.active == label {
		return c, nil
	}
	f.revision++
	c.Revision, fr.active = f.revision, label
	return f.record(c), nil
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

func (f *fakeShell) upload(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	promote := r.URL.Query().Get("promote") == "1"
	by, err := f.authorize(r, name, registry.CanPublish)
	if err != nil {
		return 0, nil, err
	}
	if promote {
		if _, err := f.authorize(r, name, registry.CanPromote); err != nil {
			return 0, nil, err
		}
	}
	fr, err := f.frontend(name)
	if err != nil {
		return 0, nil, err
	}
	data, _ := io.ReadAll(r.Body)
	if f.refuse != nil {
		return 0, nil, f.refuse
	}
	rel, _, err := registry.ReadArchive(bytes.NewReader(data), registry.ArchiveLimits{})
	if err != nil {
		return 0, nil, err
	}
	if rel.Frontend != name {
		return 0, nil, fakeError(bff.CodeBadRequest, "the archive is of %s, not %s", rel.Frontend, name)
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	v := version{Frontend: name, Label: cmpOr(rel.Label, digest[7:19]), Digest: digest, BFF: rel.BFF, PublishedBy: by}
	if rel.Manifest != nil {
		v.Files = len(rel.Manifest.Files)
		for _, file := range rel.Manifest.Files {
			v.Bytes += file.Size
		}
	}
	status := http.StatusCreated
	if i := slices.IndexFunc(fr.versions, func(old version) bool { return old.Label == v.Label }); i >= 0 {
		if fr.versions[i].Digest != digest {
			return 0, nil, fakeError("conflict", "%s %s holds other content", name, v.Label)
		}
		v, status = fr.versions[i], http.StatusOK
	} else {
		f.publish(fr, v, fakeNow)
	}
	out := map[string]any{"created": status == http.StatusCreated, "version": v}
	if promote {
		c, err := f.activate(name, v.Label, r.URL.Query().Get("expect"), registry.KindPromote, by, fakeNow)
		if err != nil {
			return 0, nil, err
		}
		out["change"] = c
	}
	return status, out, nil
}

func (f *fakeShell) list(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	if _, err := f.authorize(r, name, registry.CanPublish); err != nil {
		return 0, nil, err
	}
	fr, err := f.frontend(name)
	if err != nil {
		return 0, nil, err
	}
	vs := slices.Clone(fr.versions)
	for i := range vs {
		vs[i].Active = vs[i].Label == fr.active
	}
	return http.StatusOK, map[string]any{"frontend": name, "active": fr.active, "versions": vs}, nil
}

// decode reads r's JSON body into v as strictly as the API does.
func decode(r *http.Request, v any) error {
	if r.Header.Get("Content-Type") != "application/json" {
		return fakeError("unsupported_media_type", "want application/json, got %q", r.Header.Get("Content-Type"))
	}
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func (f *fakeShell) promote(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	by, err := f.authorize(r, name, registry.CanPromote)
	if err != nil {
		return 0, nil, err
	}
	var m move
	if err := decode(r, &m); err != nil {
		return 0, nil, err
	}
	c, err := f.activate(name, m.Version, m.Expect, registry.KindPromote, by, fakeNow)
	return http.StatusOK, map[string]any{"change": c}, err
}

func (f *fakeShell) rollback(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	by, err := f.authorize(r, name, registry.CanPromote)
	if err != nil {
		return 0, nil, err
	}
	var m move
	if err := decode(r, &m); err != nil {
		return 0, nil, err
	}
	fr, err := f.frontend(name)
	if err != nil {
		return 0, nil, err
	}
	for i := len(f.history) - 1; i >= 0 && m.Version == ""; i-- {
		if c := f.history[i]; c.Frontend == name && c.Kind == registry.KindPromote && c.Label != fr.active {
			m.Version = c.Label
		}
	}
	if m.Version == "" {
		return 0, nil, fakeError("conflict", "%s: no earlier version to roll back to", name)
	}
	c, err := f.activate(name, m.Version, m.Expect, registry.KindRollback, by, fakeNow)
	return http.StatusOK, map[string]any{"change": c}, err
}

func (f *fakeShell) rollbackAll(r *http.Request) (int, any, error) {
	by, err := f.authorize(r, "*", registry.CanPromote)
	if err != nil {
		return 0, nil, err
	}
	var body struct {
		To time.Time `json:"to"`
	}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	var changes []registry.Change
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for name := range f.frontends {
			if !yield(name) {
				return
			}
		}
	}) {
		label := ""
		for _, c := range f.history {
			if c.Frontend == name && !c.At.After(body.To) && c.Kind != registry.KindPublish && c.Kind != registry.KindYank {
				label = c.Label
			}
		}
		if label != "" && label != f.frontends[name].active {
			c, err := f.activate(name, label, "", registry.KindRollbackAll, by, fakeNow)
			if err != nil {
				return 0, nil, err
			}
			changes = append(changes, c)
		}
	}
	return http.StatusOK, map[string]any{"changes": changes}, nil
}

func (f *fakeShell) yank(r *http.Request) (int, any, error) {
	name, label := r.PathValue("name"), r.PathValue("label")
	by, err := f.authorize(r, name, registry.CanPromote)
	if err != nil {
		return 0, nil, err
	}
	fr, err := f.frontend(name)
	if err != nil {
		return 0, nil, err
	}
	i := slices.IndexFunc(fr.versions, func(v version) bool { return v.Label == label })
	if i < 0 {
		return 0, nil, fakeError(bff.CodeNotFound, "%s has no version %s", name, label)
	}
	if fr.active == label {
		return 0, nil, fakeError("conflict", "%s %s is active: promote or roll back to another version first", name, label)
	}
	fr.versions[i].Yanked = true
	f.revision++
	c := f.record(registry.Change{Revision: f.revision, At: fakeNow, By: by, Kind: registry.KindYank, Frontend: name, Label: label})
	return http.StatusOK, map[string]any{"change": c}, nil
}

func (f *fakeShell) listHistory(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	if _, err := f.authorize(r, cmpOr(q.Get("frontend"), "*"), registry.CanPublish); err != nil {
		return 0, nil, err
	}
	var since uint64
	fmt.Sscan(cmpOr(q.Get("since"), "0"), &since)
	changes := []registry.Change{}
	for _, c := range f.history {
		if c.Revision > since && (q.Get("frontend") == "" || c.Frontend == q.Get("frontend")) {
			changes = append(changes, c)
		}
	}
	return http.StatusOK, map[string]any{"revision": f.revision, "changes": changes}, nil
}

func (f *fakeShell) createToken(r *http.Request) (int, any, error) {
	by, err := f.authorize(r, "*", "admin")
	if err != nil {
		return 0, nil, err
	}
	var body struct {
		Name      string   `json:"name"`
		Frontends []string `json:"frontends"`
		Can       []string `json:"can"`
		Expires   string   `json:"expires"`
	}
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	now := fakeNow
	t := fakeToken{apiToken{ID: fmt.Sprintf("%012d", len(f.tokens)), Name: body.Name, Frontends: body.Frontends, Can: body.Can, CreatedBy: by, CreatedAt: now},
		fmt.Sprintf("collage_secret%d", len(f.tokens))}
	if body.Expires != "" {
		d, err := time.ParseDuration(body.Expires)
		if err != nil {
			return 0, nil, err
		}
		t.ExpiresAt = now.Add(d)
	}
	f.tokens = append(f.tokens, t)
	return http.StatusCreated, struct {
		apiToken
		Secret string `json:"token"`
	}{t.apiToken, t.secret}, nil
}

func (f *fakeShell) listTokens(r *http.Request) (int, any, error) {
	if _, err := f.authorize(r, "*", "admin"); err != nil {
		return 0, nil, err
	}
	var out []apiToken
	for _, t := range f.tokens {
		out = append(out, t.apiToken)
	}
	return http.StatusOK, map[string]any{"tokens": out}, nil
}

func (f *fakeShell) revokeToken(r *http.Request) (int, any, error) {
	if _, err := f.authorize(r, "*", "admin"); err != nil {
		return 0, nil, err
	}
	id := r.PathValue("id")
	i := slices.IndexFunc(f.tokens, func(t fakeToken) bool { return t.ID == id })
	if i < 0 {
		return 0, nil, fakeError(bff.CodeNotFound, "no token %s", id)
	}
	f.tokens = slices.Delete(f.tokens, i, i+1)
	return http.StatusOK, map[string]string{"revoked": id}, nil
}

// seed publishes cart v1 and v2 at fixed times and promotes v1 then v2.
func (f *fakeShell) seed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for i, label := range []string{"v1", "v2"} {
		v := version{Frontend: "cart", Label: label, Digest: fmt.Sprintf("sha256:%d%063d", i+1, 0), BFF: "local",
			PublishedBy: "cart ci (c0c0c0c0c0c0)", Files: 3, Bytes: 1234}
		f.publish(f.frontends["cart"], v, at.Add(time.Duration(i)*time.Hour))
		f.activate("cart", label, "", registry.KindPromote, "admin (a0a0a0a0a0a0)", at.Add(time.Duration(i)*time.Hour+time.Minute))
	}
}

// collage runs the command args and returns its stdout and stderr.
func collage(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &errOut}
	err = m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// TestClientErrors checks that the shell's refusals print as
// `COMMAND ARGS: CODE (STATUS): MESSAGE`.
func TestClientErrors(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{"promote", "cart", "v1", "--token", "nope"},
			"promote cart v1: unauthorized (401): missing or unknown token"},
		{"another action", []string{"promote", "cart", "v1", "--token", cartSecret},
			"promote cart v1: forbidden (403): token cart ci (c0c0c0c0c0c0) may not promote cart"},
		{"the active version", []string{"yank", "cart", "v2", "--token", adminSecret},
			"yank cart v2: conflict (409): cart v2 is active: promote or roll back to another version first"},
		{"another change first", []string{"promote", "cart", "v1", "--expect", "v1", "--token", adminSecret},
			"promote cart v1: precondition_failed (412): cart: expected v1 active, found v2: another change got there first"},
		{"an unknown frontend", []string{"versions", "nope", "--token", adminSecret},
			"versions nope: not_found (404): no frontend nope in collage.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := collage(append(tc.args, "--shell", f.URL)...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant       %s", err, tc.want)
			}
			if stdout != "" {
				t.Errorf("printed %q", stdout)
			}
		})
	}
}

// TestClientAnswers checks answers that are not the API's: a proxy's page,
// a redirect, a body that is not JSON.
func TestClientAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"a proxy's page", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>\n  <body>upstream\n down</body></html>")
		}, "versions cart: bad_gateway (502): <html> <body>upstream down</body></html>"},
		{"an empty refusal", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, "versions cart: service_unavailable (503): no error in the answer"},
		{"a redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://shell.example"+r.URL.Path, http.StatusPermanentRedirect)
		}, `redirects /_collage/api/frontends/cart/versions to "https://shell.example/_collage/api/frontends/cart/versions": set --shell or COLLAGE_SHELL to the shell's own URL`},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "hello")
		}, "answered GET /_collage/api/frontends/cart/versions with a body that is not the API's JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			_, _, err := collage("versions", "cart", "--shell", srv.URL, "--token", "t")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant …%s…", err, tc.want)
			}
		})
	}
}

// TestClientUnreachable checks the error of a shell that is not running.
func TestClientUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, _, err = collage("promote", "cart", "v2", "--shell", url, "--token", "t")
	if err == nil || !strings.HasPrefix(err.Error(), "promote cart v2: cannot reach the shell at "+url+": ") ||
		!strings.Contains(err.Error(), "connection refused") ||
		!strings.HasSuffix(err.Error(), "(is collage serve running? set --shell or COLLAGE_SHELL)") {
		t.Errorf("error %v", err)
	}
}

// TestClientEnv checks that COLLAGE_SHELL and COLLAGE_TOKEN stand for the
// flags, which win over them, and that a call without a token is not made.
func TestClientEnv(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	t.Setenv("COLLAGE_SHELL", f.URL+"/")
	t.Setenv("COLLAGE_TOKEN", adminSecret+"\n")
	if stdout, _, err := collage("versions", "cart"); err != nil || !strings.Contains(stdout, "v2") {
		t.Fatalf("with the variables: %q, %v", stdout, err)
	}
	if got := f.lastRequest(); got.Auth != "Bearer "+adminSecret || got.Target != "/_collage/api/frontends/cart/versions" {
		t.Errorf("sent %+v", got)
	}
	if _, _, err := collage("versions", "cart", "--token", cartSecret); err != nil {
		t.Fatal(err)
	}
	if got := f.lastRequest().Auth; got != "Bearer "+cartSecret {
		t.Errorf("--token: sent %q", got)
	}
	if _, _, err := collage("versions", "cart", "--shell", "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "cannot reach the shell at http://127.0.0.1:1") {
		t.Errorf("--shell did not win over COLLAGE_SHELL: %v", err)
	}

	calls := f.calls()
	t.Setenv("COLLAGE_TOKEN", "")
	_, _, err := collage("promote", "cart", "v1")
	if want := "promote: no API token: pass --token or set COLLAGE_TOKEN"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("without a token: %v; want %s…", err, want)
	}
	for _, shell := range []string{"127.0.0.1:3000", "ftp://host", "http://", "http://host/?q=1"} {
		_, _, err := collage("versions", "cart", "--shell", shell, "--token", "t")
		if err == nil || !strings.Contains(err.Error(), "want http(s)://HOST[:PORT]") {
			t.Errorf("--shell %s: %v", shell, err)
		}
	}
	if n := f.calls(); n != calls {
		t.Errorf("%d calls were made without a token or a URL", n-calls)
	}
}

// TestClientHelp checks every command of the API answers --help.
func TestClientHelp(t *testing.T) {
	for _, args := range [][]string{{"publish"}, {"versions"}, {"promote"}, {"rollback"}, {"yank"}, {"history"},
		{"token", "create"}, {"token", "list"}, {"token", "revoke"}, {"token"}} {
		stdout, stderr, err := collage(append(args, "--help")...)
		if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "Usage:") || !strings.Contains(stderr, "collage "+strings.Join(args, " ")) || stdout != "" {
			t.Errorf("collage %s --help: %v\n%s", strings.Join(args, " "), err, stderr)
		}
	}
}

// TestClientProgress checks the progress of an upload: a line at each
// quarter in a log, one rewritten line on a terminal.
func TestClientProgress(t *testing.T) {
	t.Parallel()
	read := func(tty bool) string {
		var out bytes.Buffer
		p := &progress{r: bytes.NewReader(make([]byte, 1000)), w: &out, what: "uploading cart", total: 1000, tty: tty, tick: time.Hour}
		buf := make([]byte, 100)
		for {
			if _, err := p.Read(buf); err == io.EOF {
				break
			}
		}
		p.end()
		p.end()
		return out.String()
	}
	log := read(false)
	if want := "uploading cart: 300 B of 1.0 kB (30%)\nuploading cart: 500 B of 1.0 kB (50%)\n" +
		"uploading cart: 800 B of 1.0 kB (80%)\nuploading cart: 1.0 kB of 1.0 kB (100%)\n"; log != want {
		t.Errorf("in a log:\n%s\nwant\n%s", log, want)
	}
	term := read(true)
	if !strings.HasPrefix(term, "\ruploading cart: 100 B of 1.0 kB (10%)\x1b[K\r") ||
		!strings.HasSuffix(term, "\ruploading cart: 1.0 kB of 1.0 kB (100%)\x1b[K\n") || strings.Count(term, "\n") != 1 {
		t.Errorf("on a terminal: %q", term)
	}
	if n := strings.Count(term, "\r"); n != 2 {
		t.Errorf("on a terminal, %d lines for 10 reads within a tick: %q", n, term)
	}
}

func TestClientByteSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 184_200: "184.2 kB", 5_242_880: "5.24 MB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %s, want %s", n, got, want)
		}
	}
}
