package publish

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/internal/testbin"
)

// sendUpload sends the first cut bytes of archive to s as an upload of
// recs, over a connection of its own, in pieces of 64 KiB, and returns
// once they are written. The channel gets the answer's status, or 0 when
// the connection ends without one.
func (s *server) sendUpload(t *testing.T, archive []byte, cut int) <-chan int {
	t.Helper()
	c := s.dial(t)
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := c.Write([]byte(uploadHead("recs", adminToken, len(archive)))); err != nil {
		t.Fatal(err)
	}
	for sent := 0; sent < cut; {
		n := min(64<<10, cut-sent)
		if _, err := c.Write(archive[sent : sent+n]); err != nil {
			t.Fatalf("sending the body at %d bytes: %v", sent, err)
		}
		sent += n
	}
	status := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	return status
}

// onDisk counts, in the blob folder of data, the blobs of keys and the
// temporary files of puts.
func onDisk(t *testing.T, data string, keys []string) (blobs, temp int) {
	t.Helper()
	for _, name := range blobFiles(t, data) {
		if strings.HasPrefix(filepath.Base(name), ".put-") {
			temp++
		}
	}
	for _, key := range keys {
		if _, err := os.Stat(filepath.Join(data, "blobs", "sha256", key[:2], key[2:])); err == nil {
			blobs++
		}
	}
	return blobs, temp
}

// modTime is when the file at path was last written.
func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// crashFiles and crashSize make the archive of a crash: 6 MiB of random
// files, which the shell stores one by one, each synced to disk.
const (
	crashFiles = 24
	crashSize  = 256 << 10
)

// TestCrashMidPublish kills the server (SIGKILL) while it takes a 6 MiB
// upload: in the middle of the body, at its last byte, and at points of
// the blob writes and the store's commit, which it watches the blob folder
// and the store's file for. After each kill the server is restarted on the same folder, and the
// version is either absent, or present with every file servable and whole
// (present for certain when its 201 had come); the blob folder holds no
// temporary file and no blob that no version names.
func TestCrashMidPublish(t *testing.T) {
	data := t.TempDir()
	s := start(t, data)

	// An uncut upload, watched: when its first put starts, when every new
	// blob is on disk, and when the answer comes, after the body's last
	// byte. The kills after every blob spread over the time from there to
	// the answer: the last puts (of files stored already), the store's
	// commit, the snapshot's reload.
	r := demo.NewRelease(t, "crash-ref", crashFiles, crashSize)
	archive := r.Archive(t)
	answer := s.sendUpload(t, archive, len(archive))
	sent := time.Now()
	var firstPut, everyBlob time.Duration
	for done := false; !done; {
		select {
		case status := <-answer:
			if status != http.StatusCreated {
				t.Fatalf("the uncut upload: status %d", status)
			}
			done = true
		case <-time.After(100 * time.Microsecond):
			blobs, temp := onDisk(t, data, newKeys(r))
			if firstPut == 0 && blobs+temp > 0 {
				firstPut = time.Since(sent)
			}
			if everyBlob == 0 && blobs == crashFiles {
				everyBlob = time.Since(sent)
			}
		}
	}
	answered := time.Since(sent)
	t.Logf("figure: crash: an uncut upload of %d bytes (%d new files), after its last byte: first put at %s, every new blob on disk at %s, answer at %s",
		len(archive), crashFiles, testbin.Millis(firstPut), testbin.Millis(everyBlob), testbin.Millis(answered))
	tail := answered - everyBlob

	type point struct {
		name string
		cut  bool // the body is cut in the middle
		// Once the body is sent, the kill waits for a put in flight (a
		// temporary file or a blob), for blobs new blobs, for the store's
		// file to be written (its commit has begun), or for the answer,
		// then for delay.
		put      bool
		blobs    int
		commit   bool
		answered bool
		delay    time.Duration
	}
	points := []point{
		{name: "in the middle of the body", cut: true},
		{name: "at the body's last byte"},
		{name: "at the first put", put: true},
		{name: "after 1 blob", blobs: 1},
		{name: fmt.Sprintf("after %d blobs", crashFiles/2), blobs: crashFiles / 2},
	}
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 0.95} {
		d := time.Duration(f * float64(tail))
		points = append(points, point{name: testbin.Millis(d) + " after every blob", blobs: crashFiles, delay: d})
	}
	points = append(points, point{name: "at the store's first write", commit: true},
		point{name: "after the answer", answered: true})
	for i, p := range points {
		label := fmt.Sprintf("crash-%02d", i)
		r := demo.NewRelease(t, label, crashFiles, crashSize)
		archive := r.Archive(t)
		keys := newKeys(r)
		cut := len(archive)
		if p.cut {
			cut /= 2
		}
		db := filepath.Join(data, "registry.db")
		before := modTime(t, db)
		answer := s.sendUpload(t, archive, cut)
		ready := func() bool {
			if p.commit {
				return !modTime(t, db).Equal(before)
			}
			blobs, temp := onDisk(t, data, keys)
			return p.put && blobs+temp > 0 || p.blobs > 0 && blobs >= p.blobs || !p.put && p.blobs == 0 && !p.answered
		}
		status, answered := 0, false
		for deadline := time.Now().Add(time.Minute); !p.cut && !answered && !ready(); {
			if time.Now().After(deadline) {
				t.Fatalf("killing %s: not reached within a minute", p.name)
			}
			select {
			case status = <-answer:
				answered = true
			case <-time.After(100 * time.Microsecond):
			}
		}
		time.Sleep(p.delay)
		s.Kill()
		if !answered {
			status = <-answer
		}
		blobs, temp := onDisk(t, data, keys)

		s = start(t, data)
		v := s.version(t, "recs", label)
		state := "absent"
		if v != nil {
			state = "present"
		}
		t.Logf("figure: crash: killed %s: answer %d, %d/%d new blobs and %d temporary files on disk; after the restart the version is %s",
			p.name, status, blobs, len(keys), temp, state)
		if status == http.StatusCreated && v == nil {
			t.Errorf("killed %s: the upload was answered 201, but the version is gone after the restart", p.name)
		}
		if v != nil {
			checkServable(t, s, v, r)
		} else if left, _ := onDisk(t, data, keys); left > 0 {
			t.Errorf("killed %s: the version is absent, but %d of its blobs are left after the restart", p.name, left)
		}
		s.checkBlobs(t)
	}
}

// checkServable promotes v, a version of r that the registry holds, and
// checks that every file of it is served whole.
func checkServable(t *testing.T, s *server, v *apiVersion, r *testbin.Release) {
	t.Helper()
	if v.Manifest == nil || len(v.Manifest.Files) != len(r.Files) {
		t.Errorf("%s is present without its manifest's %d files", v.Label, len(r.Files))
		return
	}
	s.must(t, adminToken, "promote", "recs", v.Label)
	for name, f := range v.Manifest.Files {
		if strings.HasSuffix(name, ".map") {
			continue // source maps are served with --source-maps only
		}
		status, body := s.get(t, "/assets/recs/"+v.Manifest.Version+"/"+name)
		if status != http.StatusOK || int64(len(body)) != f.Size || build.Integrity(body) != f.Integrity {
			t.Errorf("%s: GET %s: %d, %d bytes; want 200 and its %d bytes of %s", v.Label, name, status, len(body), f.Size, f.Integrity)
		}
	}
}
