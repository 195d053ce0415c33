// Package publish runs the collage binary as a child process on 127.0.0.1,
// serving the demo project of this repository from its embedded registry,
// and drives the registry the way teams do: with the command line, and
// with raw HTTP where a test needs to cut a request short. It checks that
// pages switch versions on the next request while old pages keep their
// assets and BFF, that every bad archive is refused with nothing written,
// that a crash in the middle of a publish leaves the whole version or
// nothing, that of two concurrent promotes exactly one wins, and that
// tokens stay in their scope. Figures (publish and promote latencies) go
// to lines that start with "figure:" (go test -v shows them).
package publish

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/testbin"
)

// demo is the collage binary and the demo, built once for every test.
var demo testbin.Demo

// adminToken is the admin secret every server is started with.
const adminToken = "publish-test-admin-secret"

// TestMain builds the collage binary and the demo once for every test.
func TestMain(m *testing.M) {
	os.Exit(demo.Main(m, "tests/publish"))
}

// server is a running collage serve.
type server struct {
	*testbin.Server
	data string // its --data folder
}

// start runs collage serve on the demo, its registry in data, on a free
// port of 127.0.0.1. It is killed when the test ends.
func start(t *testing.T, data string) *server {
	t.Helper()
	return &server{Server: demo.Serve(t, "collage serve", adminToken, "--data", data), data: data}
}

// collage runs the command line in the repository against s with token,
// and returns its output and exit status.
func (s *server) collage(t *testing.T, token string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return demo.Run(t, s.URL, token, args...)
}

// must runs the command line as collage does, and fails the test unless
// it succeeds; it returns its standard output.
func (s *server) must(t *testing.T, token string, args ...string) string {
	t.Helper()
	out, errOut, code := s.collage(t, token, args...)
	if code != 0 {
		t.Fatalf("collage %s: exit status %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// refused runs the command line and checks that it fails with status 1
// and says want (such as "forbidden (403)").
func (s *server) refused(t *testing.T, token, want string, args ...string) {
	t.Helper()
	out, errOut, code := s.collage(t, token, args...)
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("collage %s: exit status %d, want 1 and %q\n%s%s", strings.Join(args, " "), code, want, out, errOut)
	}
}

// client is every test's HTTP client.
var client = &http.Client{Timeout: time.Minute}

// call sends a request to s and returns the answer's status and body.
func (s *server) call(t *testing.T, token, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, data := testbin.Send(t, client, req)
	return resp.StatusCode, data
}

// get fetches path from s and returns the status and body.
func (s *server) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	return s.call(t, "", http.MethodGet, path, "", nil)
}

// upload posts archive as a version of frontend with token, and returns
// the status and the answer.
func (s *server) upload(t *testing.T, token, frontend string, archive []byte) (int, []byte) {
	t.Helper()
	return s.call(t, token, http.MethodPost, "/_collage/api/frontends/"+frontend+"/versions", "application/gzip", archive)
}

// apiVersion is a version as the API shows it, with its manifest.
type apiVersion struct {
	Label    string          `json:"label"`
	Active   bool            `json:"active"`
	Yanked   bool            `json:"yanked"`
	Manifest *build.Manifest `json:"manifest"`
}

// versions returns the versions of frontend, as `collage versions --json`
// prints them.
func (s *server) versions(t *testing.T, frontend string) string {
	t.Helper()
	return s.must(t, adminToken, "versions", frontend, "--json")
}

// version returns frontend's version label with its manifest, or nil when
// the registry has none of that label.
func (s *server) version(t *testing.T, frontend, label string) *apiVersion {
	t.Helper()
	status, body := s.call(t, adminToken, http.MethodGet, "/_collage/api/frontends/"+frontend+"/versions/"+label, "", nil)
	if status == http.StatusNotFound {
		return nil
	}
	var v apiVersion
	if status != http.StatusOK || json.Unmarshal(body, &v) != nil {
		t.Fatalf("showing %s %s: %d %s", frontend, label, status, body)
	}
	return &v
}

// integrities returns the integrity of every file of every version the
// registry of s holds, of every frontend: the blobs it may keep.
func (s *server) integrities(t *testing.T) map[string]bool {
	t.Helper()
	status, body := s.call(t, adminToken, http.MethodGet, "/_collage/api/frontends", "", nil)
	var list struct {
		Frontends []struct{ Name string } `json:"frontends"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil {
		t.Fatalf("listing the frontends: %d %s", status, body)
	}
	out := map[string]bool{}
	for _, f := range list.Frontends {
		status, body := s.call(t, adminToken, http.MethodGet, "/_collage/api/frontends/"+f.Name+"/versions", "", nil)
		var vs struct {
			Versions []apiVersion `json:"versions"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &vs) != nil {
			t.Fatalf("listing the versions of %s: %d %s", f.Name, status, body)
		}
		for _, v := range vs.Versions {
			if v.Yanked {
				continue
			}
			if full := s.version(t, f.Name, v.Label); full != nil && full.Manifest != nil {
				for _, file := range full.Manifest.Files {
					out[file.Integrity] = true
				}
			}
		}
	}
	return out
}

// blobFiles returns the path of every file under the blob folder of the
// registry in data, relative to it.
func blobFiles(t *testing.T, data string) []string {
	t.Helper()
	dir := filepath.Join(data, "blobs")
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkBlobs checks that the blob folder of s holds no temporary file of
// a put, and only blobs of its name's content that a version of the
// registry names.
func (s *server) checkBlobs(t *testing.T) {
	t.Helper()
	keep := s.integrities(t)
	for _, name := range blobFiles(t, s.data) {
		if strings.HasPrefix(filepath.Base(name), ".put-") {
			t.Errorf("blob folder: %s, a put's temporary file, is left", name)
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.data, "blobs", name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if key := strings.ReplaceAll(strings.TrimPrefix(name, "sha256/"), "/", ""); key != hex.EncodeToString(sum[:]) {
			t.Errorf("blob folder: %s holds content of SHA-256 %x", name, sum)
		}
		if !keep[build.Integrity(data)] {
			t.Errorf("blob folder: %s is a blob no version names", name)
		}
	}
}

// page is one page as the shell rendered it.
type page struct {
	body     string
	versions url.Values // the collage-versions meta: label by frontend
}

// page fetches the page at path.
func (s *server) page(t *testing.T, path string) page {
	t.Helper()
	status, body := s.get(t, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, status, body)
	}
	v, err := testbin.Versions(string(body))
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	return page{body: string(body), versions: v}
}

// checkAssets fetches every asset the page's import map gives an
// integrity for, and checks its content against it.
func (s *server) checkAssets(t *testing.T, p page) {
	t.Helper()
	for path, integrity := range testbin.PageImportMap(t, p.body).Integrity {
		status, body := s.get(t, path)
		if status != http.StatusOK || build.Integrity(body) != integrity {
			t.Errorf("GET %s: %d, integrity %s; want 200 and %s", path, status, build.Integrity(body), integrity)
		}
	}
}

// newKeys are the blob keys of the files NewRelease made at random in r,
// which no other release holds.
func newKeys(r *testbin.Release) []string {
	var out []string
	for name, data := range r.Files {
		if strings.HasPrefix(name, "extra-") {
			sum := sha256.Sum256(data)
			out = append(out, hex.EncodeToString(sum[:]))
		}
	}
	return out
}

// tokenID is the ID the registry gives the token of secret.
func tokenID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])[:12]
}
