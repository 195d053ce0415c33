package api_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/api"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/registry/registrytest"
)

// binding is the shell's Handler as an http.Handler: the least of a
// net/http binding, since a core package's tests link no adapter.
type binding struct{ h *shell.Handler }

func (b binding) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r}
	b.h.Serve(x, x)
}

type exchange struct {
	w http.ResponseWriter
	r *http.Request
}

func (x *exchange) Method() string            { return x.r.Method }
func (x *exchange) Path() string              { return x.r.URL.EscapedPath() }
func (x *exchange) RawQuery() string          { return x.r.URL.RawQuery }
func (x *exchange) Host() string              { return x.r.Host }
func (x *exchange) Scheme() string            { return "http" }
func (x *exchange) Header(name string) string { return x.r.Header.Get(name) }
func (x *exchange) RemoteAddr() string        { return x.r.RemoteAddr }
func (x *exchange) Body() (io.Reader, int64) {
	if x.r.Body == nil || x.r.Body == http.NoBody {
		return nil, 0
	}
	return x.r.Body, x.r.ContentLength
}
func (x *exchange) SetBodyDeadline(t time.Time) {
	http.NewResponseController(x.w).SetReadDeadline(t)
}
func (x *exchange) SetHeader(name, value string) { x.w.Header().Set(name, value) }
func (x *exchange) AddHeader(name, value string) { x.w.Header().Add(name, value) }
func (x *exchange) DelHeader(name string)        { x.w.Header().Del(name) }
func (x *exchange) CloseConnection()             { x.w.Header().Set("Connection", "close") }
func (x *exchange) Send(status int, body []byte) {
	x.w.WriteHeader(status)
	x.w.Write(body)
}
func (x *exchange) Stream(status int, body io.ReadCloser, _ int64) {
	x.w.WriteHeader(status)
	io.Copy(x.w, body)
	body.Close()
}

// syncBuffer is a log shared by the requests of a test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a shell with the publish API over a memory store and blobs on
// disk, served on 127.0.0.1, whose frontends are cart and header.
type env struct {
	t       *testing.T
	url     string
	st      registry.Store
	blobDir string
	reg     *registry.Registry
	admin   string // an admin token's secret
	log     *syncBuffer
	skew    atomic.Int64 // added to the API's clock
	changes atomic.Int64 // calls of Changed
}

// newEnv returns an env whose API has the limits of o.
func newEnv(t *testing.T, o api.Options) *env {
	t.Helper()
	e := &env{t: t, st: registry.NewMemStore(), blobDir: t.TempDir(), reg: registry.New(&registry.Snapshot{}), log: &syncBuffer{}}
	t.Cleanup(func() { e.st.Close() })
	blobs, err := registry.NewDiskBlobs(e.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Options{
		Store:       e.st,
		Blobs:       blobs,
		Frontends:   []string{"header", "cart"},
		Current:     e.reg.Current,
		Changed:     e.reload,
		Limits:      o.Limits,
		BodyTimeout: o.BodyTimeout,
		Log:         slog.New(slog.NewTextHandler(e.log, nil)),
		Now:         func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) },
	})
	sh, err := shell.New(shell.Options{Registry: e.reg, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(binding{shell.NewHandler(sh, shell.EdgeConfig{API: a})})
	t.Cleanup(srv.Close)
	e.url = srv.URL
	if e.admin, err = api.Bootstrap(context.Background(), e.st, "", time.Now()); err != nil || e.admin == "" {
		t.Fatalf("Bootstrap = %q, %v; want an admin token", e.admin, err)
	}
	return e
}

// reload serves what the store holds active, as the shell does after a
// change.
func (e *env) reload(ctx context.Context) {
	e.changes.Add(1)
	st, err := e.st.Load(ctx)
	if err != nil {
		e.t.Error(err)
		return
	}
	e.reg.Set(registry.NewSnapshot(st, registry.Retention{}, time.Now()))
}

// answer is an HTTP answer of the API.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, a.body) }

// decode decodes the body into v.
func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %s: %v", a, err)
	}
}

// request sends a request to the API at path with token, and body of
// type ctype when body is not nil.
func (e *env) request(method, path, token, ctype string, body io.Reader) answer {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+"/_collage/api/"+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, data}
}

// call sends v as JSON, or no body when v is nil.
func (e *env) call(method, path, token string, v any) answer {
	e.t.Helper()
	if v == nil {
		return e.request(method, path, token, "", nil)
	}
	data, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.request(method, path, token, "application/json", bytes.NewReader(data))
}

func (e *env) upload(frontend, query, token string, archive []byte) answer {
	e.t.Helper()
	return e.request(http.MethodPost, "frontends/"+frontend+"/versions"+query, token, "application/gzip", bytes.NewReader(archive))
}

// want checks an answer's status, and its error code and message when it
// is an error.
func want(t *testing.T, a answer, status int, code, message string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("answer %s, want %d", a, status)
	}
	if code == "" {
		return
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	a.decode(t, &e)
	if e.Error.Code != code || !strings.Contains(e.Error.Message, message) {
		t.Fatalf("answer %s, want %s: …%s…", a, code, message)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error's Content-Type %q", ct)
	}
}

// token creates a token and returns its secret and ID.
func (e *env) token(name string, frontends, can []string, expires string) (secret, id string) {
	e.t.Helper()
	a := e.call(http.MethodPost, "tokens", e.admin, map[string]any{"name": name, "frontends": frontends, "can": can, "expires": expires})
	want(e.t, a, http.StatusCreated, "", "")
	var out struct{ Token, ID string }
	a.decode(e.t, &out)
	return out.Token, out.ID
}

// blobCount is the number of blobs stored.
func (e *env) blobCount() int {
	e.t.Helper()
	n := 0
	err := filepath.WalkDir(e.blobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) revision() uint64 {
	e.t.Helper()
	st, err := e.st.Load(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Revision
}

// archive is the archive of a release of frontend labelled label (none
// when empty), of 2 files made distinct by seed.
func archive(t *testing.T, frontend, label, seed string) []byte {
	t.Helper()
	m, files := registrytest.Bundle(frontend, seed, 2, 100)
	var buf bytes.Buffer
	if err := registry.WriteArchive(&buf, registry.Descriptor{Frontend: frontend, Label: label, BFF: "local"}, m, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// publish uploads a release of frontend labelled label and checks that it
// is created.
func (e *env) publish(frontend, label, seed string) {
	e.t.Helper()
	want(e.t, e.upload(frontend, "", e.admin, archive(e.t, frontend, label, seed)), http.StatusCreated, "", "")
}

// active is the label the API says frontend serves, and the version of
// the manifest the shell serves for it.
func (e *env) active(frontend string) (label, served string) {
	e.t.Helper()
	a := e.call(http.MethodGet, "frontends/"+frontend+"/versions", e.admin, nil)
	want(e.t, a, http.StatusOK, "", "")
	var out struct{ Active string }
	a.decode(e.t, &out)
	if m := e.reg.Current().Frontends[frontend]; m != nil {
		served = m.Version
	}
	return out.Active, served
}

// uploadResult is the answer of an upload.
type uploadResult struct {
	Created bool
	Version struct {
		Frontend, Label, Digest, BFF string
		PublishedAt                  time.Time `json:"published_at"`
		PublishedBy                  string    `json:"published_by"`
		Active, Yanked               bool
		Files                        int
		Bytes                        int64
	}
	Change *registry.Change
}

func TestUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	_, adminID := adminToken(t, e)
	v1 := archive(t, "cart", "v1", "a")

	a := e.upload("cart", "", e.admin, v1)
	want(t, a, http.StatusCreated, "", "")
	var up uploadResult
	a.decode(t, &up)
	if v := up.Version; !up.Created || v.Frontend != "cart" || v.Label != "v1" || !strings.HasPrefix(v.Digest, "sha256:") ||
		v.BFF != "local" || v.PublishedAt.IsZero() || v.PublishedBy != "first admin ("+adminID+")" || v.Active || v.Yanked ||
		v.Files != 2 || v.Bytes != 200 || up.Change != nil {
		t.Errorf("upload = %s", a)
	}
	blobs, rev := e.blobCount(), e.revision()
	if blobs != 2 {
		t.Errorf("%d blobs stored, want 2", blobs)
	}

	a = e.upload("cart", "", e.admin, v1)
	want(t, a, http.StatusOK, "", "")
	var again uploadResult
	a.decode(t, &again)
	if again.Created || again.Version.Digest != up.Version.Digest {
		t.Errorf("the same content again = %s, want created false and the same digest", a)
	}

	want(t, e.upload("cart", "", e.admin, archive(t, "cart", "v1", "b")), http.StatusConflict, "conflict",
		"cart v1 is published already with other content")
	if e.blobCount() != blobs || e.revision() != rev {
		t.Errorf("the conflict left %d blobs (was %d) and revision %d (was %d)", e.blobCount(), blobs, e.revision(), rev)
	}

	a = e.upload("cart", "", e.admin, archive(t, "cart", "", "c"))
	want(t, a, http.StatusCreated, "", "")
	var unlabelled uploadResult
	a.decode(t, &unlabelled)
	if l := unlabelled.Version.Label; len(l) != 12 || !strings.HasPrefix(unlabelled.Version.Digest, "sha256:"+l) {
		t.Errorf("a release without a label is labelled %q, want the first 12 digits of %s", l, unlabelled.Version.Digest)
	}

	a = e.upload("cart", "?promote=1&expect=", e.admin, archive(t, "cart", "v2", "d"))
	want(t, a, http.StatusCreated, "", "")
	var promoted uploadResult
	a.decode(t, &promoted)
	if c := promoted.Change; c == nil || c.Kind != registry.KindPromote || c.Label != "v2" || c.From != "" || !promoted.Version.Active {
		t.Errorf("upload with promote=1 = %s", a)
	}
	if label, served := e.active("cart"); label != "v2" || served != "d" {
		t.Errorf("after promote=1: active %q, served %q; want v2 served before the answer", label, served)
	}
	want(t, e.upload("cart", "?promote=1&expect=v1", e.admin, archive(t, "cart", "v3", "e")), http.StatusPreconditionFailed,
		"precondition_failed", "cart v3 is published but not promoted: cart: expected v1 active, found v2")

	a = e.call(http.MethodGet, "frontends/cart/versions", e.admin, nil)
	want(t, a, http.StatusOK, "", "")
	var list struct {
		Frontend, Active string
		Versions         []struct {
			Label  string
			Active bool
		}
	}
	a.decode(t, &list)
	if len(list.Versions) != 4 || list.Versions[0].Label != "v1" || list.Versions[2].Label != "v2" || !list.Versions[2].Active ||
		list.Versions[3].Label != "v3" || list.Active != "v2" || list.Frontend != "cart" {
		t.Errorf("versions = %s", a)
	}

	a = e.call(http.MethodGet, "frontends/cart/versions/v1", e.admin, nil)
	want(t, a, http.StatusOK, "", "")
	var show struct {
		Label    string
		Manifest *build.Manifest
		Settings map[string]string
	}
	a.decode(t, &show)
	if show.Label != "v1" || show.Manifest == nil || show.Manifest.Version != "a" || show.Settings == nil {
		t.Errorf("version v1 = %s", a)
	}
	want(t, e.call(http.MethodGet, "frontends/cart/versions/v9", e.admin, nil), http.StatusNotFound, "not_found", "cart has no version v9")

	a = e.call(http.MethodGet, "frontends", e.admin, nil)
	want(t, a, http.StatusOK, "", "")
	var fronts struct {
		Revision  uint64
		Frontends []struct {
			Name, Active string
			Versions     int
		}
	}
	a.decode(t, &fronts)
	if fronts.Revision != e.revision() || len(fronts.Frontends) != 2 || fronts.Frontends[0].Name != "cart" ||
		fronts.Frontends[0].Active != "v2" || fronts.Frontends[0].Versions != 4 || fronts.Frontends[1].Name != "header" ||
		fronts.Frontends[1].Versions != 0 {
		t.Errorf("frontends = %s", a)
	}
	a = e.call(http.MethodGet, "frontends/header/versions", e.admin, nil)
	if want(t, a, http.StatusOK, "", ""); string(a.body) != `{"frontend":"header","active":"","versions":[]}`+"\n" {
		t.Errorf("versions of a frontend never published = %s", a)
	}
}

// adminToken returns the secret and ID of e's admin token.
func adminToken(t *testing.T, e *env) (secret, id string) {
	t.Helper()
	sum := sha256.Sum256([]byte(e.admin))
	return e.admin, hex.EncodeToString(sum[:])[:12]
}

// entry is one entry of a crafted archive.
type entry struct {
	tar.Header
	body string
}

func file(name, body string) entry {
	return entry{tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o644}, body}
}

// crafted writes the entries of a valid release of cart, with extra
// appended and the entries named in replace replaced.
func crafted(t *testing.T, extra []entry, replace map[string]string) []byte {
	t.Helper()
	m, files := registrytest.Bundle("cart", "a", 2, 100)
	manifest, _ := json.Marshal(m)
	entries := []entry{file("release.json", `{"frontend": "cart", "label": "v1", "bff": "local"}`), file("manifest.json", string(manifest))}
	for _, name := range []string{"f0.js", "f1.js"} {
		entries = append(entries, file("files/"+name, string(files[name].Data)))
	}
	for i, en := range entries {
		if body, ok := replace[en.Name]; ok {
			entries[i] = file(en.Name, body)
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, en := range append(entries, extra...) {
		if err := tw.WriteHeader(&en.Header); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, en.body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// chunked hides a reader's length, so that a request has no
// Content-Length.
type chunked struct{ io.Reader }

// TestUploadRefusals checks that every refusal of an upload gives its
// code and leaves no version, no change and no blob.
func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{Limits: registry.ArchiveLimits{MaxCompressed: 64 << 10, MaxSize: 256 << 10}})
	noise := make([]byte, 100<<10)
	rand.Read(noise)
	m, files := registrytest.Bundle("cart", "big", 1, 10)
	m.Files["noise.bin"] = build.File{Size: int64(len(noise)), Integrity: build.Integrity(noise)}
	files["noise.bin"] = &fstest.MapFile{Data: noise}
	var big bytes.Buffer
	if err := registry.WriteArchive(&big, registry.Descriptor{Frontend: "cart", BFF: "local"}, m, files); err != nil {
		t.Fatal(err)
	}
	other, _ := registrytest.Bundle("header", "a", 2, 100)
	otherJSON, _ := json.Marshal(other)

	for _, tc := range []struct {
		name     string
		frontend string
		query    string
		body     io.Reader
		encoding string
		status   int
		code     string
		message  string
	}{
		{"no body", "cart", "", nil, "", 400, "bad_request", "no body"},
		{"not gzip", "cart", "", strings.NewReader("PK\x03\x04 a zip"), "", 400, "bad_request", "archive: not gzip"},
		{"declared over the limit", "cart", "", bytes.NewReader(big.Bytes()), "", 413, "payload_too_large", "over the limit of 65536 compressed bytes"},
		{"streamed over the limit", "cart", "", chunked{bytes.NewReader(big.Bytes())}, "", 413, "payload_too_large", "over the limit of 65536 compressed bytes"},
		{"a decompression bomb", "cart", "", bytes.NewReader(crafted(t, []entry{file("files/zeros", strings.Repeat("\x00", 1<<20))}, nil)), "", 413, "payload_too_large", "decoded bytes"},
		{"absolute path", "cart", "", bytes.NewReader(crafted(t, []entry{file("/etc/passwd", "x")}, nil)), "", 400, "bad_request", `"/etc/passwd": an absolute path`},
		{"dot dot", "cart", "", bytes.NewReader(crafted(t, []entry{file("files/../../x.js", "x")}, nil)), "", 400, "bad_request", "a path that leaves the archive"},
		{"symlink", "cart", "", bytes.NewReader(crafted(t, []entry{{tar.Header{Typeflag: tar.TypeSymlink, Name: "files/x.js", Linkname: "/etc/passwd"}, ""}}, nil)), "", 400, "bad_request", "a symbolic link"},
		{"device", "cart", "", bytes.NewReader(crafted(t, []entry{{tar.Header{Typeflag: tar.TypeChar, Name: "files/tty", Devmajor: 5}, ""}}, nil)), "", 400, "bad_request", "a device file"},
		{"duplicate", "cart", "", bytes.NewReader(crafted(t, []entry{file("files/f0.js", "alert(1)")}, nil)), "", 400, "bad_request", `"files/f0.js": duplicate`},
		{"manifest that does not validate", "cart", "", bytes.NewReader(crafted(t, nil, map[string]string{"manifest.json": string(otherJSON)})), "", 400, "bad_request", `names frontend "header"`},
		{"file of other content", "cart", "", bytes.NewReader(crafted(t, nil, map[string]string{"files/f0.js": strings.Repeat("!", 100)})), "", 400, "bad_request", `"files/f0.js": integrity sha384-`},
		{"archive of another frontend", "header", "", bytes.NewReader(crafted(t, nil, nil)), "", 400, "bad_request", "the archive is a release of cart, uploaded to header"},
		{"unknown frontend", "nope", "", bytes.NewReader(crafted(t, nil, nil)), "", 404, "not_found", `no frontend "nope": this shell's are cart, header, _shared`},
		{"a reserved name", "shell", "", bytes.NewReader(crafted(t, nil, nil)), "", 404, "not_found", `no frontend "shell"`},
		{"compressed twice", "cart", "", bytes.NewReader(crafted(t, nil, nil)), "gzip", 415, "unsupported_media_type", "Content-Encoding"},
		{"expect without promote", "cart", "?expect=v1", bytes.NewReader(crafted(t, nil, nil)), "", 400, "bad_request", "expect=v1 goes with promote=1"},
		{"promote that is not a boolean", "cart", "?promote=yes", bytes.NewReader(crafted(t, nil, nil)), "", 400, "bad_request", "promote=yes"},
		{"an unknown query parameter", "cart", "?promte=1", bytes.NewReader(crafted(t, nil, nil)), "", 400, "bad_request", `no query parameter "promte"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.url+"/_collage/api/frontends/"+tc.frontend+"/versions"+tc.query, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+e.admin)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want(t, answer{resp.StatusCode, resp.Header, body}, tc.status, tc.code, tc.message)
			for _, name := range []string{"cart", "header"} {
				if _, _, err := e.st.List(context.Background(), name); registrytest.Code(err) != "not_found" {
					t.Errorf("after the refusal, %s has versions (%v)", name, err)
				}
			}
			if n, rev := e.blobCount(), e.revision(); n != 0 || rev != 0 {
				t.Errorf("after the refusal: %d blobs, revision %d; want none", n, rev)
			}
		})
	}
}

func TestPromoteAndRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	e.publish("cart", "v1", "a")
	e.publish("cart", "v2", "b")
	e.publish("cart", "v3", "c")
	move := func(what string, body any, status int, code, message string) registry.Change {
		t.Helper()
		a := e.call(http.MethodPost, "frontends/cart/"+what, e.admin, body)
		want(t, a, status, code, message)
		var out struct{ Change registry.Change }
		if status == http.StatusOK {
			a.decode(t, &out)
		}
		return out.Change
	}
	check := func(label, served string) {
		t.Helper()
		if l, s := e.active("cart"); l != label || s != served {
			t.Errorf("active %q, served %q; want %q, %q", l, s, label, served)
		}
	}

	if c := move("promote", map[string]string{"version": "v1"}, 200, "", ""); c.Kind != "promote" || c.Label != "v1" || c.From != "" || c.By == "" || c.Revision == 0 {
		t.Errorf("promote v1 = %+v", c)
	}
	check("v1", "a")
	move("promote", map[string]string{"version": "v2", "expect": "v1"}, 200, "", "")
	check("v2", "b")
	move("promote", map[string]string{"version": "v3", "expect": "v1"}, 412, "precondition_failed", "cart: expected v1 active, found v2")
	check("v2", "b")
	if c := move("rollback", nil, 200, "", ""); c.Kind != "rollback" || c.Label != "v1" || c.From != "v2" {
		t.Errorf("rollback = %+v, want v2 → v1", c)
	}
	check("v1", "a")
	move("rollback", map[string]string{"version": "v3", "expect": "v2"}, 412, "precondition_failed", "expected v2 active, found v1")
	move("rollback", map[string]string{"version": "v3", "expect": "v1"}, 200, "", "")
	check("v3", "c")
	move("promote", map[string]string{"version": "v9"}, 404, "not_found", "cart has no version v9")
	move("promote", map[string]string{}, 400, "bad_request", "promote cart: which version?")
	move("promote", nil, 400, "bad_request", "the body is empty")
	move("promote", map[string]string{"version": "v1", "force": "yes"}, 400, "bad_request", `unknown field "force"`)
	want(t, e.request(http.MethodPost, "frontends/cart/promote", e.admin, "text/plain", strings.NewReader(`{"version":"v1"}`)),
		415, "unsupported_media_type", `Content-Type "text/plain": send application/json`)
	want(t, e.request(http.MethodPost, "frontends/cart/promote", e.admin, "application/json", strings.NewReader(`{"version":"`+strings.Repeat("v", 70<<10)+`"}`)),
		413, "payload_too_large", "the most a JSON call takes")
	want(t, e.call(http.MethodPost, "frontends/header/rollback", e.admin, nil), 404, "not_found", "header has no published version")
	check("v3", "c")

	changes := e.changes.Load()
	move("promote", map[string]string{"version": "v3"}, 200, "", "")
	if e.changes.Load() != changes {
		t.Errorf("a promote of the active version told the shell of a change")
	}
}

// TestConcurrentPromotes promotes from 8 clients at once, each expecting
// the same version active: exactly one wins, the others get 412.
func TestConcurrentPromotes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	e.publish("cart", "v0", "base")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": "v0"}), 200, "", "")
	for i := 1; i <= 8; i++ {
		e.publish("cart", fmt.Sprintf("v%d", i), fmt.Sprint(i))
	}
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			a := e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": fmt.Sprintf("v%d", i+1), "expect": "v0"})
			statuses[i] = a.status
		})
	}
	wg.Wait()
	won, lost, winner := 0, 0, ""
	for i, s := range statuses {
		switch s {
		case 200:
			won++
			winner = fmt.Sprintf("v%d", i+1)
		case 412:
			lost++
		}
	}
	if won != 1 || lost != 7 {
		t.Fatalf("statuses %v, want one 200 and seven 412", statuses)
	}
	if label, _ := e.active("cart"); label != winner {
		t.Errorf("active %s, want the winner %s", label, winner)
	}
}

func TestRollbackAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	promote := func(frontend, label string) registry.Change {
		t.Helper()
		a := e.call(http.MethodPost, "frontends/"+frontend+"/promote", e.admin, map[string]string{"version": label})
		want(t, a, 200, "", "")
		var out struct{ Change registry.Change }
		a.decode(t, &out)
		return out.Change
	}
	for _, f := range []string{"cart", "header"} {
		e.publish(f, "v1", "a")
		e.publish(f, "v2", "b")
	}
	promote("cart", "v1")
	then := promote("header", "v1").At
	if c := promote("cart", "v2"); !c.At.After(then) {
		t.Skipf("the clock did not move between two promotes (%s)", then)
	}
	promote("header", "v2")

	promoter, _ := e.token("ops", []string{"cart", "header"}, []string{"promote"}, "")
	all, _ := e.token("ops all", []string{"*"}, []string{"promote"}, "")
	want(t, e.call(http.MethodPost, "rollback", promoter, map[string]string{"to": then.Format(time.RFC3339Nano)}), 403, "forbidden", "may not roll back every frontend")
	want(t, e.call(http.MethodPost, "rollback", all, map[string]string{"to": "yesterday"}), 400, "bad_request", `"yesterday" is not a time`)
	want(t, e.call(http.MethodPost, "rollback", all, nil), 400, "bad_request", "the body is empty")

	a := e.call(http.MethodPost, "rollback", all, map[string]string{"to": then.Format(time.RFC3339Nano)})
	want(t, a, 200, "", "")
	var out struct{ Changes []registry.Change }
	a.decode(t, &out)
	if len(out.Changes) != 2 || out.Changes[0].Kind != "rollback_all" || out.Changes[0].Revision != out.Changes[1].Revision ||
		!strings.HasPrefix(out.Changes[0].By, "ops all (") {
		t.Errorf("rollback = %s, want two changes of one revision", a)
	}
	for _, f := range []string{"cart", "header"} {
		if label, served := e.active(f); label != "v1" || served != "a" {
			t.Errorf("%s: active %q, served %q after the rollback; want v1", f, label, served)
		}
	}
	a = e.call(http.MethodPost, "rollback", e.admin, map[string]string{"to": then.Format(time.RFC3339Nano)})
	if want(t, a, 200, "", ""); string(a.body) != `{"changes":[]}`+"\n" {
		t.Errorf("a rollback to where the registry is = %s, want no change", a)
	}
}

func TestYank(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	e.publish("cart", "v1", "a")
	e.publish("cart", "v2", "b")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": "v2"}), 200, "", "")
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v2/yank", e.admin, nil), 409, "conflict", "cart v2 is active")
	a := e.call(http.MethodPost, "frontends/cart/versions/v1/yank", e.admin, nil)
	want(t, a, 200, "", "")
	var out struct{ Change registry.Change }
	if a.decode(t, &out); out.Change.Kind != "yank" || out.Change.Label != "v1" {
		t.Errorf("yank = %s", a)
	}
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": "v1"}), 409, "conflict", "cart v1 is yanked")
	want(t, e.call(http.MethodPost, "frontends/cart/rollback", e.admin, nil), 409, "conflict", "no earlier version")
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v7/yank", e.admin, nil), 404, "not_found", "cart has no version v7")
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v1/yank", e.admin, map[string]string{"why": "bad"}), 400, "bad_request", `unknown field "why"`)
	a = e.call(http.MethodGet, "frontends/cart/versions/v1", e.admin, nil)
	var v struct{ Yanked, Active bool }
	if a.decode(t, &v); !v.Yanked || v.Active {
		t.Errorf("v1 after the yank = %s", a)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	e.publish("cart", "v1", "a")
	e.publish("header", "v1", "a")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": "v1"}), 200, "", "")
	history := func(query string) (uint64, []registry.Change) {
		t.Helper()
		a := e.call(http.MethodGet, "history"+query, e.admin, nil)
		want(t, a, 200, "", "")
		var out struct {
			Revision uint64
			Changes  []registry.Change
		}
		a.decode(t, &out)
		return out.Revision, out.Changes
	}
	rev, all := history("")
	if rev != 3 || len(all) != 3 || all[0].Kind != "publish" || all[2].Kind != "promote" || all[2].Revision != 3 {
		t.Errorf("history = %d, %+v", rev, all)
	}
	if rev, since := history("?since=1"); rev != 3 || len(since) != 2 || since[0].Revision != 2 {
		t.Errorf("history since 1 = %d, %+v", rev, since)
	}
	if _, cart := history("?frontend=cart"); len(cart) != 2 || cart[0].Frontend != "cart" || cart[1].Frontend != "cart" {
		t.Errorf("history of cart = %+v", cart)
	}
	if rev, none := history("?since=3"); rev != 3 || none == nil || len(none) != 0 {
		t.Errorf("history since 3 = %d, %+v; want revision 3 and no change", rev, none)
	}
	want(t, e.call(http.MethodGet, "history?since=-1", e.admin, nil), 400, "bad_request", "since=-1")
	want(t, e.call(http.MethodGet, "history?frontend=nope", e.admin, nil), 404, "not_found", `no frontend "nope"`)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	_, adminID := adminToken(t, e)
	a := e.call(http.MethodPost, "tokens", e.admin, map[string]any{"name": "cart ci", "frontends": []string{"cart"}, "can": []string{"publish"}, "expires": "720h"})
	want(t, a, http.StatusCreated, "", "")
	var created struct {
		Token, ID, Name string
		Frontends, Can  []string
		CreatedBy       string    `json:"created_by"`
		CreatedAt       time.Time `json:"created_at"`
		ExpiresAt       time.Time `json:"expires_at"`
	}
	a.decode(t, &created)
	sum := sha256.Sum256([]byte(created.Token))
	hash := hex.EncodeToString(sum[:])
	if !strings.HasPrefix(created.Token, "collage_") || len(created.Token) != len("collage_")+43 || created.ID != hash[:12] ||
		created.Name != "cart ci" || len(created.Frontends) != 1 || created.Can[0] != "publish" ||
		created.CreatedBy != "first admin ("+adminID+")" || created.ExpiresAt.Sub(created.CreatedAt) != 720*time.Hour {
		t.Errorf("token create = %s", a)
	}
	ci := created.Token

	a = e.call(http.MethodGet, "tokens", e.admin, nil)
	want(t, a, 200, "", "")
	if strings.Contains(string(a.body), ci) || strings.Contains(string(a.body), hash) || strings.Contains(string(a.body), `"hash"`) ||
		!strings.Contains(string(a.body), `"id":"`+created.ID+`"`) || !strings.Contains(string(a.body), `"id":"`+adminID+`"`) {
		t.Errorf("token list = %s, want both tokens without secret or hash", a)
	}

	// The token does what it may, and nothing else.
	want(t, e.upload("cart", "", ci, archive(t, "cart", "v1", "a")), http.StatusCreated, "", "")
	want(t, e.upload("cart", "?promote=1", ci, archive(t, "cart", "v2", "b")), 403, "forbidden", "token cart ci ("+created.ID+") may not promote cart")
	want(t, e.upload("header", "", ci, archive(t, "header", "v1", "a")), 403, "forbidden", "token cart ci ("+created.ID+") may not publish header")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", ci, map[string]string{"version": "v1"}), 403, "forbidden", "may not promote cart")
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v1/yank", ci, nil), 403, "forbidden", "may not promote cart")
	want(t, e.call(http.MethodGet, "tokens", ci, nil), 403, "forbidden", "may not manage tokens")
	want(t, e.call(http.MethodPost, "tokens", ci, map[string]any{"frontends": []string{"cart"}, "can": []string{"admin"}}), 403, "forbidden", "may not manage tokens")
	want(t, e.call(http.MethodDelete, "tokens/"+adminID, ci, nil), 403, "forbidden", "may not manage tokens")
	want(t, e.call(http.MethodGet, "frontends/cart/versions", ci, nil), 200, "", "")
	want(t, e.call(http.MethodGet, "frontends/header/versions", ci, nil), 403, "forbidden", "may not read header")
	want(t, e.call(http.MethodGet, "history?frontend=header", ci, nil), 403, "forbidden", "may not read header")
	want(t, e.call(http.MethodGet, "frontends/_shared/versions", ci, nil), 200, "", "")
	want(t, e.call(http.MethodGet, "history", ci, nil), 200, "", "")
	want(t, e.call(http.MethodGet, "frontends", ci, nil), 200, "", "")

	// "*" covers every frontend but the shared dependencies.
	star, _ := e.token("", []string{"*"}, []string{"publish", "promote"}, "")
	want(t, e.upload("header", "?promote=1", star, archive(t, "header", "v1", "a")), http.StatusCreated, "", "")
	want(t, e.call(http.MethodPost, "frontends/_shared/rollback", star, nil), 403, "forbidden", "may not promote _shared")

	for _, tc := range []struct {
		body          any
		status        int
		code, message string
	}{
		{map[string]any{"frontends": []string{"cart"}, "can": []string{"deploy"}}, 400, "bad_request", `"deploy": a token may publish, promote or admin`},
		{map[string]any{"frontends": []string{"cart"}}, 400, "bad_request", "what may the token do?"},
		{map[string]any{"can": []string{"publish"}}, 400, "bad_request", "which frontends?"},
		{map[string]any{"frontends": []string{"nope"}, "can": []string{"publish"}}, 400, "bad_request", `no frontend "nope"`},
		{map[string]any{"frontends": []string{"cart"}, "can": []string{"publish"}, "expires": "-1h"}, 400, "bad_request", `"-1h": want a positive duration`},
		{map[string]any{"frontends": []string{"cart"}, "can": []string{"publish"}, "expires": "a month"}, 400, "bad_request", "want a positive duration"},
		{map[string]any{"frontends": []string{"cart"}, "can": []string{"publish"}, "name": "a\nb"}, 400, "bad_request", "without control characters"},
		{map[string]any{"frontends": []string{"cart"}, "can": []string{"publish"}, "scope": "x"}, 400, "bad_request", `unknown field "scope"`},
	} {
		want(t, e.call(http.MethodPost, "tokens", e.admin, tc.body), tc.status, tc.code, tc.message)
	}

	a = e.call(http.MethodDelete, "tokens/"+created.ID, e.admin, nil)
	if want(t, a, 200, "", ""); string(a.body) != `{"revoked":"`+created.ID+`"}`+"\n" {
		t.Errorf("revoke = %s", a)
	}
	want(t, e.call(http.MethodGet, "frontends", ci, nil), 401, "unauthorized", "not known")
	want(t, e.call(http.MethodDelete, "tokens/"+created.ID, e.admin, nil), 404, "not_found", "")

	logs := e.log.String()
	if strings.Contains(logs, ci) || strings.Contains(logs, hash) {
		t.Errorf("the log holds a secret or its hash:\n%s", logs)
	}
	for _, line := range []string{"kind=token_create token=" + created.ID, "kind=token_revoke token=" + created.ID,
		"kind=publish frontend=cart label=v1 from=\"\" revision=1 by=\"cart ci (" + created.ID + ")\""} {
		if !strings.Contains(logs, line) {
			t.Errorf("the log does not say %q:\n%s", line, logs)
		}
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	soon, id := e.token("soon", []string{"cart"}, []string{"publish"}, "1h")
	for _, tc := range []struct {
		name, header, message string
	}{
		{"no header", "", "no token"},
		{"another scheme", "Basic " + e.admin, "no token"},
		{"an empty token", "Bearer ", "no token"},
		{"an unknown token", "Bearer collage_nope", "not known"},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.url+"/_collage/api/frontends", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want(t, answer{resp.StatusCode, resp.Header, body}, 401, "unauthorized", tc.message)
		if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer realm="collage"` {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, got)
		}
	}
	want(t, e.call(http.MethodGet, "frontends", soon, nil), 200, "", "")
	e.skew.Store(int64(time.Hour))
	want(t, e.call(http.MethodGet, "frontends", soon, nil), 401, "unauthorized", "token soon ("+id+") expired at")
	// Unknown paths and methods are answered after the token is checked.
	want(t, e.call(http.MethodGet, "nothing/here", "", nil), 401, "unauthorized", "")
	want(t, e.call(http.MethodGet, "nothing/here", e.admin, nil), 404, "not_found", "no API at /_collage/api/nothing/here")
	want(t, e.call(http.MethodGet, "frontends/cart", e.admin, nil), 404, "not_found", "")
	a := e.call(http.MethodDelete, "frontends/cart/versions", e.admin, nil)
	want(t, a, 405, "method_not_allowed", "use GET or POST")
	if got := a.header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow %q", got)
	}
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
	want(t, e.call(http.MethodGet, "frontends?x=1", e.admin, nil), 400, "bad_request", `no query parameter "x"`)
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	st := registry.NewMemStore()
	tokens := func() map[string]*registry.Token {
		t.Helper()
		ts, err := st.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*registry.Token{}
		for _, tok := range ts {
			m[tok.ID] = tok
		}
		return m
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}

	first, err := api.Bootstrap(ctx, st, "", now)
	if err != nil || !strings.HasPrefix(first, "collage_") {
		t.Fatalf("Bootstrap of an empty store = %q, %v; want a secret", first, err)
	}
	ts := tokens()
	if tok := ts[hash(first)[:12]]; len(ts) != 1 || tok == nil || tok.Hash != hash(first) || tok.Can[0] != "admin" || !tok.CreatedAt.Equal(now) {
		t.Errorf("tokens after the first start: %+v", ts)
	}
	if again, err := api.Bootstrap(ctx, st, "", now); again != "" || err != nil || len(tokens()) != 1 {
		t.Errorf("Bootstrap of a store with a token = %q, %v; want nothing new", again, err)
	}

	if _, err := api.Bootstrap(ctx, st, "short-secret", now); err == nil || !strings.Contains(err.Error(), "COLLAGE_ADMIN_TOKEN is 12 characters long") {
		t.Errorf("Bootstrap with a short secret: %v", err)
	}
	if _, err := api.Bootstrap(ctx, st, first, now); err == nil || !strings.Contains(err.Error(), "is the secret of token first admin") {
		t.Errorf("Bootstrap with the secret of another token: %v", err)
	}
	env := "an operator's secret, long enough"
	if s, err := api.Bootstrap(ctx, st, env, now); s != "" || err != nil {
		t.Fatalf("Bootstrap with COLLAGE_ADMIN_TOKEN = %q, %v", s, err)
	}
	if tok := tokens()["admin-env"]; tok == nil || tok.Hash != hash(env) || tok.Name != "COLLAGE_ADMIN_TOKEN" || tok.Can[0] != "admin" || tok.Frontends[0] != "*" {
		t.Errorf("admin-env = %+v", tok)
	}
	if _, err := api.Bootstrap(ctx, st, env, now.Add(time.Hour)); err != nil || !tokens()["admin-env"].CreatedAt.Equal(now) {
		t.Errorf("Bootstrap with the same secret again replaced the token (%v)", err)
	}
	other := "another operator's secret, long"
	if _, err := api.Bootstrap(ctx, st, other, now); err != nil || tokens()["admin-env"].Hash != hash(other) || len(tokens()) != 2 {
		t.Errorf("Bootstrap with a new secret: %v, tokens %+v; want admin-env replaced", err, tokens())
	}
	if s, err := api.Bootstrap(ctx, st, "", now); s != "" || err != nil || tokens()["admin-env"] != nil || len(tokens()) != 1 {
		t.Errorf("Bootstrap without COLLAGE_ADMIN_TOKEN = %q, %v, tokens %+v; want admin-env gone, nothing new", s, err, tokens())
	}

	// The environment's token alone, then taken away: a new one-time token.
	st = registry.NewMemStore()
	if _, err := api.Bootstrap(ctx, st, env, now); err != nil {
		t.Fatal(err)
	}
	if s, err := api.Bootstrap(ctx, st, "", now); err != nil || s == "" || tokens()["admin-env"] != nil || len(tokens()) != 1 {
		t.Errorf("Bootstrap once the only token is taken away = %q, %v; want a new one-time token", s, err)
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	s1, h1, id1 := api.NewSecret()
	s2, _, _ := api.NewSecret()
	sum := sha256.Sum256([]byte(s1))
	if s1 == s2 || !strings.HasPrefix(s1, "collage_") || h1 != hex.EncodeToString(sum[:]) || id1 != h1[:12] {
		t.Errorf("NewSecret = %q, %q, %q (and %q)", s1, h1, id1, s2)
	}
}

// sharedArchive is the archive of shared dependencies that provide preact
// and preact/hooks at version preact.
func sharedArchive(t *testing.T, label, preact string) []byte {
	t.Helper()
	m, files := registrytest.Bundle(build.SharedName, label, 2, 100)
	m.Entry, m.Imports, m.Packages = "", map[string]string{"preact": "f0.js", "preact/hooks": "f1.js"}, map[string]string{"preact": preact}
	var buf bytes.Buffer
	if err := registry.WriteArchive(&buf, registry.Descriptor{Frontend: build.SharedName, Label: label}, m, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// preactArchive is the archive of a frontend built against preact at
// version preact.
func preactArchive(t *testing.T, frontend, label, preact string) []byte {
	t.Helper()
	m, files := registrytest.Bundle(frontend, label, 2, 100)
	m.Shared, m.Packages = []string{"preact", "preact/hooks"}, map[string]string{"preact": preact}
	var buf bytes.Buffer
	if err := registry.WriteArchive(&buf, registry.Descriptor{Frontend: frontend, Label: label, BFF: "local"}, m, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestShared checks that the shell never serves a frontend with shared
// dependencies that do not provide what it was built against: uploads,
// promotes and rollbacks of either side are refused with what is missing.
func TestShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	shared := func() string {
		if s := e.reg.Current().Shared; s != nil {
			return s.Version
		}
		return ""
	}

	want(t, e.upload("cart", "", e.admin, preactArchive(t, "cart", "c1", "10.19.0")), 409, "conflict",
		`cart needs "preact", "preact/hooks": the shell has no shared dependencies published`)
	if n, rev := e.blobCount(), e.revision(); n != 0 || rev != 0 {
		t.Errorf("after the refusal: %d blobs, revision %d; want none", n, rev)
	}
	want(t, e.upload("_shared", "?promote=1", e.admin, sharedArchive(t, "s0", "10.0.0")), 201, "", "")
	want(t, e.upload("_shared", "?promote=1", e.admin, sharedArchive(t, "s1", "10.19.3")), 201, "", "")
	want(t, e.upload("cart", "", e.admin, preactArchive(t, "cart", "c1", "10.19.0")), 201, "", "")
	blobs, rev := e.blobCount(), e.revision()
	want(t, e.upload("cart", "", e.admin, preactArchive(t, "cart", "c2", "11.0.0")), 409, "conflict",
		"cart needs preact@^11.0.0 (preact, preact/hooks); the shell's shared dependencies provide preact@10.19.3")
	if e.blobCount() != blobs || e.revision() != rev {
		t.Errorf("the refusal left %d blobs (was %d), revision %d (was %d)", e.blobCount(), blobs, e.revision(), rev)
	}

	// No frontend is served yet: the shared dependencies move freely, and
	// a frontend built against others cannot be promoted.
	want(t, e.upload("_shared", "?promote=1", e.admin, sharedArchive(t, "s2", "11.0.1")), 201, "", "")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": "c1"}), 409, "conflict",
		"cart needs preact@^10.19.0 (preact, preact/hooks); the shell's shared dependencies provide preact@11.0.1")
	want(t, e.call(http.MethodPost, "frontends/_shared/rollback", e.admin, nil), 200, "", "")
	if got := shared(); got != "s1" {
		t.Errorf("shared dependencies served after the rollback: %q, want s1", got)
	}
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]string{"version": "c1"}), 200, "", "")

	// Now cart is served, and holds the shared dependencies where it needs them.
	want(t, e.call(http.MethodPost, "frontends/_shared/rollback", e.admin, nil), 409, "conflict",
		"_shared s2 does not provide what the frontends served need: cart needs preact@^10.19.0 (preact, preact/hooks); the shell's shared dependencies provide preact@11.0.1")
	want(t, e.call(http.MethodPost, "frontends/_shared/promote", e.admin, map[string]string{"version": "s0", "expect": "s1"}), 409, "conflict",
		"_shared s0 does not provide what the frontends served need: cart needs preact@^10.19.0")
	want(t, e.call(http.MethodPost, "frontends/_shared/rollback", e.admin, map[string]string{"expect": "s2"}), 412, "precondition_failed", "expected s2 active, found s1")
	if got := shared(); got != "s1" {
		t.Errorf("shared dependencies served after the refusals: %q, want s1", got)
	}

	star, _ := e.token("all", []string{"*"}, []string{"publish", "promote"}, "")
	want(t, e.upload("_shared", "", star, sharedArchive(t, "s3", "10.20.0")), 403, "forbidden", "may not publish _shared")
	deps, _ := e.token("deps", []string{"_shared"}, []string{"publish", "promote"}, "")
	want(t, e.upload("_shared", "?promote=1", deps, sharedArchive(t, "s3", "10.20.0")), 201, "", "")
	if got := shared(); got != "s3" {
		t.Errorf("shared dependencies served: %q, want s3", got)
	}
	a := e.call(http.MethodGet, "frontends", e.admin, nil)
	if !strings.Contains(string(a.body), `"frontends":[{"name":"_shared","active":"s3","versions":4},{"name":"cart","active":"c1","versions":1}`) {
		t.Errorf("frontends = %s", a)
	}
}

// TestUploadTimeout sends half an archive and stops: the upload ends at
// the body timeout with a 408, and nothing is left of it.
func TestUploadTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{BodyTimeout: 100 * time.Millisecond})
	data := archive(t, "cart", "v1", "a")
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		pw.Write(data[:len(data)/2])
		<-done
		pw.Close()
	}()
	a := e.request(http.MethodPost, "frontends/cart/versions", e.admin, "application/gzip", pr)
	close(done)
	want(t, a, http.StatusRequestTimeout, "request_timeout", "the body did not arrive in time")
	if n, rev := e.blobCount(), e.revision(); n != 0 || rev != 0 {
		t.Errorf("after the timeout: %d blobs, revision %d; want none", n, rev)
	}
}

// TestCanary starts a canary, raises it, lists it, and ends it by a
// rollback: the active version stays, and the shell is told each time.
func TestCanary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	e.publish("cart", "v1", "a")
	e.publish("cart", "v2", "b")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]any{"version": "v1"}), 200, "", "")
	canary := func(percent int) registry.Change {
		t.Helper()
		a := e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]any{"version": "v2", "percent": percent})
		want(t, a, 200, "", "")
		var out struct{ Change registry.Change }
		a.decode(t, &out)
		return out.Change
	}
	if c := canary(10); c.Kind != registry.KindCanary || c.Percent != 10 || c.From != "v1" {
		t.Errorf("canary = %+v", c)
	}
	canary(40)
	if c := e.reg.Current().Canaries["cart"]; c.Label != "v2" || c.Percent != 40 {
		t.Errorf("the shell serves canaries %+v, want v2 at 40%%", e.reg.Current().Canaries)
	}
	a := e.call(http.MethodGet, "frontends/cart/versions", e.admin, nil)
	var list struct {
		Active   string
		Canary   *registry.Canary
		Versions []struct {
			Label  string
			Active bool
			Canary int
		}
	}
	a.decode(t, &list)
	if list.Active != "v1" || list.Canary == nil || list.Canary.Percent != 40 || list.Versions[1].Canary != 40 || list.Versions[0].Canary != 0 {
		t.Errorf("versions = %s", a.body)
	}
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]any{"version": "v2", "percent": 120}), 400, "bad_request", "1 to 99")
	a = e.call(http.MethodPost, "frontends/cart/rollback", e.admin, nil)
	want(t, a, 200, "", "")
	var out struct{ Change registry.Change }
	a.decode(t, &out)
	if out.Change.Kind != registry.KindCanaryAbort || out.Change.Label != "v2" {
		t.Errorf("rollback during a canary = %+v, want its end", out.Change)
	}
	if l, _ := e.active("cart"); l != "v1" || len(e.reg.Current().Canaries) != 0 {
		t.Errorf("after the rollback: active %s, canaries %v", l, e.reg.Current().Canaries)
	}
}

// TestPreview makes a preview link: the shell serves its version to the
// link's holders, and the nonce is in the link alone.
func TestPreview(t *testing.T) {
	t.Parallel()
	e := newEnv(t, api.Options{})
	e.publish("cart", "v1", "a")
	e.publish("cart", "v2", "b")
	want(t, e.call(http.MethodPost, "frontends/cart/promote", e.admin, map[string]any{"version": "v1"}), 200, "", "")
	a := e.call(http.MethodPost, "frontends/cart/versions/v2/preview", e.admin, map[string]any{"for": "2h"})
	want(t, a, 200, "", "")
	var out struct {
		Change registry.Change
		Path   string
		Until  time.Time
	}
	a.decode(t, &out)
	u, err := url.Parse(out.Path)
	if err != nil || u.Path != "/" || out.Change.Kind != registry.KindPreview || time.Until(out.Until) < 119*time.Minute {
		t.Fatalf("preview = %s", a.body)
	}
	token := u.Query().Get(shell.PreviewParam)
	p, ok := e.reg.Current().Previews["cart"]["v2"]
	if !ok || token != shell.PreviewToken("cart", "v2", p.Nonce) {
		t.Errorf("the link %q does not open the preview the shell serves (%+v)", out.Path, p)
	}
	if strings.Contains(e.log.String(), p.Nonce) {
		t.Errorf("the log holds the preview's nonce:\n%s", e.log)
	}
	if l, _ := e.active("cart"); l != "v1" {
		t.Errorf("a preview changed the active version to %s", l)
	}
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v2/preview", e.admin, map[string]any{"for": "200h"}), 400, "bad_request", "at most 168h")
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v9/preview", e.admin, nil), 404, "not_found", "cart has no version v9")
	publisher, _ := e.token("ci", []string{"cart"}, []string{"publish"}, "")
	want(t, e.call(http.MethodPost, "frontends/cart/versions/v2/preview", publisher, nil), 403, "forbidden", "")
}

// downStore is a store whose Redis went away: its token check fails as
// the Redis store's calls then do.
type downStore struct{ registry.Store }

func (downStore) TokenByHash(context.Context, string) (*registry.Token, error) {
	return nil, &bff.Error{Code: bff.CodeServiceUnavailable,
		Message: "the registry's store (Redis at 10.0.0.7:6379) does not answer: dial tcp 10.0.0.7:6379: connect: connection refused"}
}

// TestStoreDown: while the store does not answer, every call is a 503
// that says so, and the store's detail (where it is, how it failed) goes
// to the log only.
func TestStoreDown(t *testing.T) {
	blobs, err := registry.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	reg := registry.New(&registry.Snapshot{})
	a := api.New(api.Options{Store: downStore{registry.NewMemStore()}, Blobs: blobs, Frontends: []string{"cart"},
		Current: reg.Current, Log: slog.New(slog.NewTextHandler(log, nil))})
	sh, err := shell.New(shell.Options{Registry: reg, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(binding{shell.NewHandler(sh, shell.EdgeConfig{API: a})})
	t.Cleanup(srv.Close)
	e := &env{t: t, url: srv.URL}
	for _, got := range []answer{
		e.call(http.MethodPost, "frontends/cart/promote", "collage_any", map[string]string{"version": "v1"}),
		e.upload("cart", "", "collage_any", archive(t, "cart", "v1", "a")),
		e.call(http.MethodGet, "frontends/cart/versions", "collage_any", nil),
	} {
		want(t, got, http.StatusServiceUnavailable, "service_unavailable", "the registry's store does not answer")
		if strings.Contains(string(got.body), "10.0.0.7") {
			t.Errorf("answer %s: it tells where the store is", got)
		}
	}
	if !strings.Contains(log.String(), "Redis at 10.0.0.7:6379") {
		t.Errorf("the log does not say what failed:\n%s", log)
	}
}
