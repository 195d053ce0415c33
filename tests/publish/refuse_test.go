package publish

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/testbin"
)

// dial opens a connection to s.
func (s *server) dial(t *testing.T) net.Conn {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// uploadHead is the head of an upload of size bytes to frontend, with
// token.
func uploadHead(frontend, token string, size int) string {
	return fmt.Sprintf("POST /_collage/api/frontends/%s/versions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/gzip\r\nContent-Length: %d\r\n\r\n", frontend, token, size)
}

// extra returns the index in es of the i-th file NewRelease added.
func extra(es []testbin.Entry, i int) int {
	return slices.IndexFunc(es, func(e testbin.Entry) bool { return e.Name == fmt.Sprintf("files/extra-%02d.bin", i) })
}

// TestRefusals uploads bad archives to the real server: each is refused
// with its status and code, and leaves the versions and the blob folder
// as they were.
func TestRefusals(t *testing.T) {
	s := start(t, t.TempDir())
	cartToken := strings.TrimSpace(s.must(t, adminToken, "token", "create", "--frontend", "cart", "--can", "publish"))
	promoteToken := strings.TrimSpace(s.must(t, adminToken, "token", "create", "--frontend", "recs", "--can", "promote"))

	n := 0
	fresh := func() *testbin.Release {
		n++
		return demo.NewRelease(t, fmt.Sprintf("bad-%d", n), 3, 4096)
	}
	with := func(extra ...testbin.Entry) []byte {
		return testbin.TarGz(t, gzip.NoCompression, append(fresh().Entries(t, "local"), extra...))
	}
	tests := []struct {
		name     string
		frontend string
		token    string
		archive  func() []byte
		status   int
		code     string
	}{
		{name: "symbolic link", archive: func() []byte {
			return with(testbin.Entry{Name: "files/link.js", Type: tar.TypeSymlink, Link: "../../../etc/passwd"})
		}, status: 400, code: "bad_request"},
		{name: "hard link", archive: func() []byte {
			return with(testbin.Entry{Name: "files/link.js", Type: tar.TypeLink, Link: "release.json"})
		}, status: 400, code: "bad_request"},
		{name: "device", archive: func() []byte {
			return with(testbin.Entry{Name: "files/null", Type: tar.TypeChar})
		}, status: 400, code: "bad_request"},
		{name: "path with ..", archive: func() []byte {
			return with(testbin.Entry{Name: "files/../../escape.js", Data: []byte("x")})
		}, status: 400, code: "bad_request"},
		{name: "absolute path", archive: func() []byte {
			return with(testbin.Entry{Name: "/tmp/escape.js", Data: []byte("x")})
		}, status: 400, code: "bad_request"},
		{name: "duplicate entry", archive: func() []byte {
			es := fresh().Entries(t, "local")
			return testbin.TarGz(t, gzip.NoCompression, append(es, es[extra(es, 0)]))
		}, status: 400, code: "bad_request"},
		{name: "sha384 differs", archive: func() []byte {
			// The second new file: had the first been stored before the
			// second was checked, the blob folder would show it.
			es := fresh().Entries(t, "local")
			bad := &es[extra(es, 1)]
			bad.Data = slices.Clone(bad.Data)
			bad.Data[0]++
			return testbin.TarGz(t, gzip.NoCompression, es)
		}, status: 400, code: "bad_request"},
		{name: "over the decoded limit", archive: func() []byte {
			// 70 MiB of zeros, a few hundred kB of gzip: refused once
			// 64 MiB are decoded, never held whole.
			pad := make([]byte, 1<<20)
			es := fresh().Entries(t, "local")
			for i := range 70 {
				es = append(es, testbin.Entry{Name: fmt.Sprintf("files/pad-%02d.bin", i), Data: pad})
			}
			return testbin.TarGz(t, gzip.BestSpeed, es)
		}, status: 413, code: "payload_too_large"},
		{name: "unknown frontend", frontend: "nosuch", archive: func() []byte { return with() }, status: 404, code: "not_found"},
		{name: "token of another frontend", token: cartToken, archive: func() []byte { return with() }, status: 403, code: "forbidden"},
		{name: "token of another action", token: promoteToken, archive: func() []byte { return with() }, status: 403, code: "forbidden"},
		{name: "shared dependency not provided", archive: func() []byte {
			r := fresh()
			r.Manifest.Packages = map[string]string{"preact": "99.0.0"}
			return r.Archive(t)
		}, status: 409, code: "conflict"},
	}
	versions, blobs := s.versions(t, "recs"), blobFiles(t, s.data)
	unchanged := func(t *testing.T) {
		t.Helper()
		if got := s.versions(t, "recs"); got != versions {
			t.Errorf("the versions changed:\n%s\nwant\n%s", got, versions)
		}
		if got := blobFiles(t, s.data); !slices.Equal(got, blobs) {
			t.Errorf("the blob folder changed: %d files, want %d", len(got), len(blobs))
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frontend, token := "recs", adminToken
			if tt.frontend != "" {
				frontend = tt.frontend
			}
			if tt.token != "" {
				token = tt.token
			}
			status, body := s.upload(t, token, frontend, tt.archive())
			var e struct {
				Error struct{ Code, Message string }
			}
			if status != tt.status || json.Unmarshal(body, &e) != nil || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("status %d %s, want %d %s", status, body, tt.status, tt.code)
			}
			t.Logf("%d %s", status, e.Error.Message)
			unchanged(t)
		})
	}

	// An archive declared over the compressed limit is refused before it
	// is read.
	t.Run("over the compressed limit", func(t *testing.T) {
		c := s.dial(t)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write([]byte(uploadHead("recs", adminToken, 40<<20))); err != nil {
			t.Fatal(err)
		}
		c.Write(bytes.Repeat([]byte{0x1f}, 64<<10)) // the shell may close before it reads this
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer to an upload of 40 MiB: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", resp.StatusCode)
		}
		unchanged(t)
	})

	// The same upload, valid, adds a version and its new files' blobs: what
	// the checks above would have seen.
	good := fresh()
	status, body := s.upload(t, adminToken, "recs", good.Archive(t))
	if status != http.StatusCreated {
		t.Fatalf("a valid archive: %d %s", status, body)
	}
	if s.versions(t, "recs") == versions || len(blobFiles(t, s.data)) != len(blobs)+3 {
		t.Errorf("a valid archive: versions unchanged or %d blob files, want %d", len(blobFiles(t, s.data)), len(blobs)+3)
	}
	versions, blobs = s.versions(t, "recs"), blobFiles(t, s.data)

	// The same content again is a 200 that changes nothing; other content
	// under its label, a 409 that writes nothing.
	t.Run("published again", func(t *testing.T) {
		status, body := s.upload(t, adminToken, "recs", good.Archive(t))
		if status != http.StatusOK || !strings.Contains(string(body), `"created":false`) {
			t.Errorf("status %d %s, want 200 and created false", status, body)
		}
		unchanged(t)
	})
	t.Run("label taken by other content", func(t *testing.T) {
		other := fresh()
		other.Label = good.Label
		status, body := s.upload(t, adminToken, "recs", other.Archive(t))
		if status != http.StatusConflict || !strings.Contains(string(body), `"conflict"`) {
			t.Errorf("status %d %s, want 409 conflict", status, body)
		}
		unchanged(t)
	})
}
