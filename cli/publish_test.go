package cli

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/registry"
)

// TestPublish packs the demo's header, uploads it with flags before and
// after the folder, and promotes it: the shell receives the archive pack
// writes, stdout is the label alone, stderr the progress and a summary,
// and nothing is left in the temporary folder.
func TestPublish(t *testing.T) {
	needNodeModules(t)
	f := newFakeShell(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	folder := filepath.Join(root, "frontends", "header")

	stdout, stderr, err := collage("publish", "--root", root, "--shell", f.URL, folder, "--label", "v1", "--promote", "--token", adminSecret, "--bff", "https://header.example/v1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != "v1\n" {
		t.Errorf("stdout %q, want the label alone", stdout)
	}
	req := f.lastRequest()
	if req.Method != "POST" || req.Target != "/_collage/api/frontends/header/versions?promote=1" || req.ContentType != "application/gzip" || req.Auth != "Bearer "+adminSecret {
		t.Errorf("sent %s %s (%s, %s)", req.Method, req.Target, req.ContentType, req.Auth)
	}
	rel, _, err := registry.ReadArchive(bytes.NewReader(req.Body), registry.ArchiveLimits{})
	if err != nil {
		t.Fatalf("the shell received an archive it refuses: %v", err)
	}
	if rel.Frontend != "header" || rel.Label != "v1" || rel.BFF != "https://header.example/v1" || rel.Manifest == nil {
		t.Errorf("the shell received %+v", rel)
	}
	size := len(req.Body)
	progress := regexp.MustCompile(`(?m)^uploading header: [0-9.]+ (B|kB|MB) of [0-9.]+ (B|kB|MB) \(\d+%\)$`).FindAllString(stderr, -1)
	if len(progress) == 0 || len(progress) > 4 || !strings.HasSuffix(progress[len(progress)-1], "of "+byteSize(int64(size))+" (100%)") {
		t.Errorf("progress lines %q of %d bytes in\n%s", progress, size, stderr)
	}
	summary := regexp.MustCompile(`(?m)^published header v1 \(new\): digest [0-9a-f]{12}, \d+ files, [0-9.]+ (B|kB|MB), took \d`)
	if !summary.MatchString(stderr) || !strings.Contains(stderr, "\npromoted header: none → v1 (revision 2)\n") ||
		!strings.Contains(stderr, "packed header in ") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("publish left %v in the temporary folder", left)
	}

	t.Run("again", func(t *testing.T) {
		t.Setenv("COLLAGE_TOKEN", cartSecret)
		_, _, err := collage("publish", folder, "--root", root, "--shell", f.URL, "--label", "v1", "--bff", "https://header.example/v1")
		if err == nil || err.Error() != "publish header: forbidden (403): token cart ci (c0c0c0c0c0c0) may not publish header" {
			t.Errorf("a token of cart: %v", err)
		}
		stdout, stderr, err := collage("publish", folder, "--root", root, "--shell", f.URL, "--label", "v1", "--bff", "https://header.example/v1", "--token", adminSecret)
		if err != nil || stdout != "v1\n" || !strings.Contains(stderr, "published header v1 (unchanged, the same content was published already)") || strings.Contains(stderr, "promoted") {
			t.Errorf("the same content again: %q, %v\n%s", stdout, err, stderr)
		}
	})

	t.Run("refused", func(t *testing.T) {
		f.mu.Lock()
		f.refuse = &bff.Error{Code: "conflict", Message: "header needs preact@^10.19.0 (preact); the shell's shared dependencies provide preact@11.0.1"}
		f.mu.Unlock()
		stdout, _, err := collage("publish", folder, "--root", root, "--shell", f.URL, "--token", adminSecret, "--promote", "--expect", "v1")
		want := "publish header: conflict (409): header needs preact@^10.19.0 (preact); the shell's shared dependencies provide preact@11.0.1"
		if err == nil || err.Error() != want || stdout != "" {
			t.Errorf("%q, %v\nwant %s", stdout, err, want)
		}
		q := url.Values{"promote": {"1"}, "expect": {"v1"}}
		if got := f.lastRequest().Target; got != "/_collage/api/frontends/header/versions?"+q.Encode() {
			t.Errorf("sent %s", got)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("a refused publish left %v in the temporary folder", left)
		}
	})
}

// TestPublishRefuses checks the arguments before anything is built or sent.
func TestPublishRefuses(t *testing.T) {
	f := newFakeShell(t)
	t.Setenv("COLLAGE_TOKEN", "")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no folder", []string{"--token", "t"}, "publish: want one frontend folder, such as frontends/cart; got 0 arguments"},
		{"two folders", []string{"frontends/cart", "frontends/recs", "--token", "t"}, "got 2 arguments"},
		{"--expect without --promote", []string{"frontends/cart", "--expect", "v1", "--token", "t"}, "publish: --expect v1 says what --promote replaces; add --promote"},
		{"no token", []string{"frontends/cart"}, "publish: no API token"},
		{"an unknown flag after the folder", []string{"frontends/cart", "--promte"}, "flag provided but not defined: -promte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := collage(append([]string{"publish", "--shell", f.URL}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want …%s…", err, tc.want)
			}
		})
	}
	if n := f.calls(); n != 0 {
		t.Errorf("%d calls made", n)
	}
}
