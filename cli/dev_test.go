package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell"
)

// copyDemo copies the demo project's collage.yaml, layouts and frontends'
// sources (not their Go BFFs, which this binary links) into a temporary
// folder, with node_modules linked, and returns the folder: dev may edit
// the copy.
func copyDemo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		switch {
		case rel == ".":
			return nil
		case top != "collage.yaml" && top != "layouts" && top != "frontends",
			d.IsDir() && (d.Name() == "bff" || d.Name() == "internal" || d.Name() == "node_modules"),
			strings.HasSuffix(p, ".go"):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	modules, err := filepath.Abs(filepath.Join(root, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// events follows a page's event stream, sending each event's name and
// data. Like a browser, it connects again when the stream ends, from the
// last event it saw.
func events(t *testing.T, base string, q url.Values) <-chan [2]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	connect := func(lastID string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+shell.DevPrefix+"events?"+q.Encode(), nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			resp.Body.Close()
			return nil
		}
		return resp
	}
	first := connect("")
	if first == nil {
		t.Fatal("events: the stream does not open")
	}
	out := make(chan [2]string, 64)
	go func() {
		resp, lastID := first, ""
		for {
			sc := bufio.NewScanner(resp.Body)
			var name string
			for sc.Scan() {
				line := sc.Text()
				if v, ok := strings.CutPrefix(line, "id: "); ok {
					lastID = v
				}
				if v, ok := strings.CutPrefix(line, "event: "); ok {
					name = v
				}
				if v, ok := strings.CutPrefix(line, "data: "); ok {
					out <- [2]string{name, v}
				}
			}
			resp.Body.Close()
			for resp = nil; resp == nil; resp = connect(lastID) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}()
	return out
}

// expect waits at most 20s for an event called name, skipping others, and
// returns its data.
func expect(t *testing.T, evs <-chan [2]string, name string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-evs:
			if ev[0] == name {
				return ev[1]
			}
		case <-timeout:
			t.Fatalf("no %s event within 20s", name)
		}
	}
}

// TestDevLoop edits a copy of the demo while dev serves it: each change is
// built again, served, and told to the pages.
func TestDevLoop(t *testing.T) {
	needNodeModules(t)
	dir := copyDemo(t)
	base, out := startOut(t, "dev", "--config", filepath.Join(dir, "collage.yaml"), "--addr", "127.0.0.1:0", "--set", "recs.delay=1ms")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, page := get(t, client, base+"/")
	if resp.StatusCode != 200 || !strings.Contains(page, shell.DevClientPath) {
		t.Fatalf("GET / = %d, without the dev client:\n%s", resp.StatusCode, page)
	}
	versions := html.UnescapeString(regexp.MustCompile(`<meta name="collage-versions" content="([^"]*)">`).FindStringSubmatch(page)[1])
	shared := regexp.MustCompile(`/assets/_shared/([^/]+)/`).FindStringSubmatch(page)[1]
	evs := events(t, base, url.Values{"path": {"/"}, "versions": {versions}, "shared": {shared}})

	edit := func(file, old, new string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(file))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s does not hold %q", file, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	view := "frontends/recs/src/RecsView.tsx"
	edit(view, "{recs.title}", "{recs.title} (edited in dev)")
	var u struct{ Frontend, Label, Entry string }
	if err := json.Unmarshal([]byte(expect(t, evs, "update")), &u); err != nil || u.Frontend != "recs" {
		t.Fatalf("update %+v, %v", u, err)
	}
	if resp, js := get(t, client, base+u.Entry); resp.StatusCode != 200 || !strings.Contains(js, "(edited in dev)") {
		t.Errorf("GET %s = %d, without the edit", u.Entry, resp.StatusCode)
	}
	if resp, health := get(t, client, base+"/_collage/health"); !strings.Contains(health, `"recs":"`+u.Label+`"`) {
		t.Errorf("health = %d %s, want recs %s active", resp.StatusCode, health, u.Label)
	}

	edit(view, "{recs.title} (edited in dev)", "{recs.title")
	var p struct{ Source, Frontend, File, Frame string }
	if err := json.Unmarshal([]byte(expect(t, evs, "error")), &p); err != nil || p.Source != "build" || p.Frontend != "recs" || p.File != view || p.Frame == "" {
		t.Errorf("error %+v, %v", p, err)
	}
	edit(view, "{recs.title", "{recs.title} (fixed)")
	expect(t, evs, "clear")
	expect(t, evs, "update")

	edit("layouts/home.html", "Nothing here is for sale.", "Nothing here is for sale, edited.")
	expect(t, evs, "reload")
	if _, page := get(t, client, base+"/"); !strings.Contains(page, "Nothing here is for sale, edited.") {
		t.Errorf("GET / after the layout's edit:\n%s", page)
	}
	for _, want := range []string{"collage: built 4 frontend(s)", "collage: watching ", "collage: rebuilt recs in ",
		"collage: recs failed to build in ", "serving the new collage.yaml and layouts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}
