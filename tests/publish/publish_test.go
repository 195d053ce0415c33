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
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/syncbuf"
	"github.com/collage-dev/collage/shell/registry"
)

var (
	bin  string // the collage binary under test
	root string // the repository: the demo project
	dist string // the demo, built once by collage build
	// base is the release of recs as collage pack builds it, and its
	// files: what the archives the tests make start from.
	base      *registry.Release
	baseFiles fs.FS
)

// adminToken is the admin secret every server is started with.
const adminToken = "publish-test-admin-secret"

// TestMain builds the collage binary and the demo once for every test.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if root, err = filepath.Abs("../.."); err != nil {
		fmt.Println(err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "preact")); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Println("node_modules is missing under CI: the test command runs npm ci first")
			return 1
		}
		fmt.Println("SKIPPING tests/publish: node_modules is missing; run `npm ci` (the README's test command does)")
		return 0
	}
	dir, err := os.MkdirTemp("", "collage-publish-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "collage")
	dist = filepath.Join(dir, "dist")
	archive := filepath.Join(dir, "recs.tar.gz")
	for _, c := range []*exec.Cmd{
		exec.Command("go", "build", "-o", bin, "./cmd/collage"),
		exec.Command(bin, "build", "--out", dist, "--lambda=false"),
		exec.Command(bin, "pack", "frontends/recs", "--out", archive),
	} {
		c.Dir = root
		if out, err := c.CombinedOutput(); err != nil {
			fmt.Printf("%s: %v\n%s", strings.Join(c.Args, " "), err, out)
			return 1
		}
	}
	f, err := os.Open(archive)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	base, baseFiles, err = registry.ReadArchive(f, registry.ArchiveLimits{})
	f.Close()
	if err != nil {
		fmt.Printf("reading the archive of recs: %v\n", err)
		return 1
	}
	return m.Run()
}

// server is a running collage serve.
type server struct {
	url  string
	data string // its --data folder
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{} // closed once the process has exited
}

var servingRE = regexp.MustCompile(`serving \d+ route\(s\) on (http://\S+)`)

// start runs collage serve on the demo, its registry in data, on a free
// port of 127.0.0.1. It is killed when the test ends.
func start(t *testing.T, data string) *server {
	t.Helper()
	s := &server{data: data, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--config", filepath.Join(root, "collage.yaml"), "--dist", dist,
		"--data", data, "--addr", "127.0.0.1:0")
	s.cmd.Env = append(env(), "COLLAGE_ADMIN_TOKEN="+adminToken)
	pr, pw := io.Pipe()
	s.cmd.Stdout = io.MultiWriter(s.out, pw)
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("collage serve --data %s:\n%s", data, s.out.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case s.url = <-urls:
	case <-s.done:
		t.Fatalf("collage serve exited before listening:\n%s", s.out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("collage serve did not listen within 60s\n%s", s.out.String())
	}
	return s
}

// kill sends SIGKILL to the server and waits for it to end.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// env is this process's environment without the variables of collage's
// command line, which each command is given explicitly.
func env() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "COLLAGE_") })
}

// collage runs the command line in the repository against s with token,
// and returns its output and exit status.
func (s *server) collage(t *testing.T, token string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, bin, args...)
	c.Dir = root
	c.Env = append(env(), "COLLAGE_SHELL="+s.url, "COLLAGE_TOKEN="+token)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("collage %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
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
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
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

var (
	versionsRE = regexp.MustCompile(`<meta name="collage-versions" content="([^"]*)">`)
	importRE   = regexp.MustCompile(`<script type="importmap"[^>]*>(.*?)</script>`)
)

// page fetches the page at path.
func (s *server) page(t *testing.T, path string) page {
	t.Helper()
	status, body := s.get(t, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, status, body)
	}
	p := page{body: string(body)}
	m := versionsRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("GET %s: no collage-versions meta\n%s", path, body)
	}
	v, err := url.ParseQuery(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatalf("GET %s: the collage-versions meta %q: %v", path, m[1], err)
	}
	p.versions = v
	return p
}

// importMap is a page's import map: its module URLs and their integrity.
type importMap struct {
	Imports   map[string]string `json:"imports"`
	Integrity map[string]string `json:"integrity"`
}

func (p page) importMap(t *testing.T) importMap {
	t.Helper()
	m := importRE.FindStringSubmatch(p.body)
	var im importMap
	if m == nil || json.Unmarshal([]byte(m[1]), &im) != nil || len(im.Integrity) == 0 {
		t.Fatalf("the page has no import map with integrity:\n%s", p.body)
	}
	return im
}

// checkAssets fetches every asset the page's import map gives an
// integrity for, and checks its content against it.
func (s *server) checkAssets(t *testing.T, p page) {
	t.Helper()
	for path, integrity := range p.importMap(t).Integrity {
		status, body := s.get(t, path)
		if status != http.StatusOK || build.Integrity(body) != integrity {
			t.Errorf("GET %s: %d, integrity %s; want 200 and %s", path, status, build.Integrity(body), integrity)
		}
	}
}

// entry is one entry of a tar archive the tests make.
type entry struct {
	name string
	typ  byte // tar.TypeReg when 0
	data []byte
	link string
}

// tarGz makes a gzip-compressed tar of entries, in order, at the gzip
// level: gzip.NoCompression for random content, which cannot shrink.
func tarGz(t testing.TB, level int, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	size := 1024
	for _, e := range entries {
		size += 1024 + len(e.data)
	}
	buf.Grow(size) // once: large archives are slow to copy under the race detector
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.data)), Linkname: e.link, ModTime: time.Unix(0, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil && h.Size > 0 {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// release is a new release of recs made from base: labelled label, with
// count more files of size random bytes each.
type release struct {
	label    string
	manifest *build.Manifest
	files    map[string][]byte
}

func newRelease(t testing.TB, label string, count, size int) *release {
	t.Helper()
	m := *base.Manifest
	m.Version = label
	m.Files = maps.Clone(base.Manifest.Files)
	r := &release{label: label, manifest: &m, files: map[string][]byte{}}
	for name := range m.Files {
		data, err := fs.ReadFile(baseFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		r.files[name] = data
	}
	for i := range count {
		data := make([]byte, size)
		rand.Read(data) // never fails
		name := fmt.Sprintf("extra-%02d.bin", i)
		r.files[name] = data
		m.Files[name] = build.File{Size: int64(size), Integrity: build.Integrity(data)}
	}
	return r
}

// entries are the archive's entries as collage pack writes them, with
// descriptor d.
func (r *release) entries(t testing.TB, bff string) []entry {
	t.Helper()
	d, err := json.Marshal(registry.Descriptor{Frontend: r.manifest.Name, Label: r.label, BFF: bff})
	if err != nil {
		t.Fatal(err)
	}
	m, err := json.Marshal(r.manifest)
	if err != nil {
		t.Fatal(err)
	}
	out := []entry{{name: registry.DescriptorFile, data: d}, {name: build.ManifestFile, data: m}}
	for _, name := range slices.Sorted(maps.Keys(r.files)) {
		out = append(out, entry{name: registry.FilesDir + name, data: r.files[name]})
	}
	return out
}

// archive is the release's archive, its BFF linked into the shell.
func (r *release) archive(t testing.TB) []byte {
	t.Helper()
	return tarGz(t, gzip.NoCompression, r.entries(t, "local"))
}

// newKeys are the blob keys of the files newRelease made at random,
// which no other release holds.
func (r *release) newKeys() []string {
	var out []string
	for name, data := range r.files {
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

// percentile returns the p-th percentile (0 < p ≤ 100) of ds, by the
// nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ms is d in milliseconds, for figures.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
