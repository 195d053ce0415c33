package publish

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
)

// recsV2 is the BFF of the second version of recs, an HTTP server: its
// fragment and its /recs answer say which version they come from.
func recsV2(t *testing.T) (url string, paths func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path)
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/_fragment"):
			io.WriteString(w, `<p class="recs-v2">recommended by recs v2</p>`)
		case strings.HasSuffix(r.URL.Path, "/recs"):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"title":"recs v2","products":[]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL + "/v2", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// editedRecs writes a project beside the repository's whose recs differs
// from the repository's in one export of its entry module, and returns
// the project's folder: its bundle is another manifest version.
func editedRecs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(demo.Root, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	// recs imports the product art's stylesheet from beside it.
	if err := os.CopyFS(filepath.Join(dir, "frontends"), os.DirFS(filepath.Join(demo.Root, "frontends"))); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(dir, "frontends", "recs", "src", "index.tsx")
	src, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(entry, append(src, "\nexport const release = \"v2\";\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPublishPromoteRollback publishes two versions of recs with the
// command line, the second from an edited copy with an HTTP BFF, and
// moves between them: each page names and shows the version active when
// it was rendered, a page rendered before a promote keeps its assets and
// its /bff calls on its version, and a rollback of everything to a time
// restores every frontend as it was then.
func TestPublishPromoteRollback(t *testing.T) {
	s := start(t, t.TempDir())
	v2URL, v2Paths := recsV2(t)
	imported := s.page(t, "/")

	if got := strings.TrimSpace(s.must(t, adminToken, "publish", "frontends/recs", "--label", "v1")); got != "v1" {
		t.Fatalf("publish printed %q, want the label v1", got)
	}
	if p := s.page(t, "/"); p.versions.Get("recs") != imported.versions.Get("recs") {
		t.Errorf("a publish without --promote changed the page's recs to %s", p.versions.Get("recs"))
	}
	s.must(t, adminToken, "promote", "recs", "v1")
	old := s.page(t, "/")
	if old.versions.Get("recs") != "v1" || !strings.Contains(old.body, "Popular right now") {
		t.Fatalf("after promote v1: versions %v; want recs=v1 and its BFF's recommendations\n%s", old.versions, old.body)
	}
	time.Sleep(20 * time.Millisecond)
	then := time.Now()
	time.Sleep(20 * time.Millisecond)

	project := editedRecs(t)
	s.must(t, adminToken, "publish", filepath.Join(project, "frontends", "recs"), "--root", project, "--label", "v2", "--bff", v2URL)
	s.must(t, adminToken, "promote", "recs", "v2", "--expect", "v1")
	next := s.page(t, "/")
	if next.versions.Get("recs") != "v2" || !strings.Contains(next.body, "recommended by recs v2") {
		t.Fatalf("the page after promote v2: versions %v; want recs=v2 and its BFF's fragment\n%s", next.versions, next.body)
	}
	oldJS, newJS := testbin.PageImportMap(t, old.body).Imports["@collage/recs"], testbin.PageImportMap(t, next.body).Imports["@collage/recs"]
	if oldJS == newJS || !strings.HasPrefix(oldJS, "/assets/recs/") || !strings.HasPrefix(newJS, "/assets/recs/") {
		t.Errorf("recs's module: %s before the promote, %s after; want two versions under /assets/recs/", oldJS, newJS)
	}
	for _, p := range v2Paths() {
		if !strings.HasPrefix(p, "/v2/") {
			t.Errorf("v2's BFF was called at %s, want under its target's path /v2/", p)
		}
	}

	// The page rendered before the promote still loads its version's
	// files and reaches its version's BFF; pinned calls to v2 reach v2's.
	s.checkAssets(t, old)
	s.checkAssets(t, next)
	for _, tt := range []struct{ path, title string }{
		{"/bff/recs@v1/recs", "Popular right now"},
		{"/bff/recs@v2/recs", "recs v2"},
		{"/bff/recs/recs", "recs v2"}, // not pinned: the active version
	} {
		status, body := s.get(t, tt.path)
		var got struct{ Title string }
		if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Title != tt.title {
			t.Errorf("GET %s: %d %s; want the title %q", tt.path, status, body, tt.title)
		}
	}

	s.must(t, adminToken, "rollback", "recs")
	if p := s.page(t, "/"); p.versions.Get("recs") != "v1" || !strings.Contains(p.body, "Popular right now") {
		t.Errorf("after rollback: versions %v, want recs=v1 shown", p.versions)
	}

	// Move two frontends, then roll everything back to then.
	s.must(t, adminToken, "promote", "recs", "v2")
	s.must(t, adminToken, "publish", "frontends/header", "--label", "h2", "--promote")
	moved := s.page(t, "/")
	if moved.versions.Get("recs") != "v2" || moved.versions.Get("header") != "h2" {
		t.Fatalf("after promoting recs v2 and header h2: versions %v", moved.versions)
	}
	s.must(t, adminToken, "rollback", "--all", "--to", then.UTC().Format(time.RFC3339Nano))
	back := s.page(t, "/")
	if back.versions.Encode() != old.versions.Encode() || !strings.Contains(back.body, "Popular right now") {
		t.Errorf("after rollback --all --to the time of v1: versions %v, want %v as then", back.versions, old.versions)
	}
	s.checkAssets(t, back)
	s.checkBlobs(t)

	// A yanked version is never served again, and a restart undoes no
	// move: it serves what was active, and collects the yanked files.
	s.must(t, adminToken, "yank", "recs", "v2")
	if status, _ := s.get(t, newJS); status != http.StatusNotFound {
		t.Errorf("GET %s of the yanked v2: %d, want 404", newJS, status)
	}
	status, body := s.get(t, "/bff/recs@v2/recs")
	if status != http.StatusOK || !strings.Contains(string(body), "Popular right now") {
		t.Errorf("GET /bff/recs@v2/recs once v2 is yanked: %d %s; want the active version's answer", status, body)
	}
	s.Kill()
	s = start(t, s.data)
	if again := s.page(t, "/"); again.versions.Encode() != back.versions.Encode() {
		t.Errorf("after a restart: versions %v, want %v as before it", again.versions, back.versions)
	}
	s.checkAssets(t, back)
	s.checkBlobs(t)
}
