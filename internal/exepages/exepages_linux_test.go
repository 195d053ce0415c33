package exepages

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// smaps is an excerpt of /proc/self/smaps: a cgo binary's mappings, one
// of them read-only with a page the dynamic linker wrote.
const smaps = `00400000-018f9000 r-xp 00000000 fe:00 9977905                            /srv/bin/collage
Size:              21476 kB
Rss:                4516 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw sd
018f9000-02bd2000 r--p 014f9000 fe:00 9977905                            /srv/bin/collage
Rss:               12132 kB
Anonymous:             0 kB
02bd2000-02bd4000 r--p 027d2000 fe:00 9977905                            /srv/bin/collage
Rss:                   8 kB
Anonymous:             4 kB
02bd4000-02ce2000 rw-p 027d4000 fe:00 9977905                            /srv/bin/collage
Rss:                1088 kB
Anonymous:           312 kB
02ce2000-04d5c000 rw-p 00000000 00:00 0 
Rss:                 312 kB
Anonymous:           312 kB
7fe91a6a6000-7fe91a7fc000 r-xp 00026000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                 808 kB
Anonymous:             0 kB
7fe91a800000-7fe91a801000 r--p 00000000 fe:00 9977905                    /overlay/merged/srv/bin/collage
Rss:                   4 kB
Anonymous:             0 kB
7fe91a900000-7fe91a901000 r--p 00000000 00:2a 77                         /tmp/a file with spaces
Rss:                   4 kB
Anonymous:             0 kB
`

func TestReleasable(t *testing.T) {
	ms := parse([]byte(smaps))
	if len(ms) != 8 {
		t.Fatalf("parsed %d mappings, want 8: %+v", len(ms), ms)
	}
	if got := ms[7].path; got != "/tmp/a file with spaces" {
		t.Errorf("path %q, want the rest of the line", got)
	}
	if ms[0].rss != 4516<<10 || ms[2].anonymous != 4<<10 {
		t.Errorf("sizes of %+v and %+v", ms[0], ms[2])
	}
	for _, tc := range []struct {
		name string
		exe  string
		ino  uint64
		want []uintptr // the starts of the mappings picked
	}{
		{"by path", "/srv/bin/collage", 0, []uintptr{0x400000, 0x18f9000}},
		{"by inode, as in a container", "/app/collage", 9977905, []uintptr{0x400000, 0x18f9000, 0x7fe91a800000}},
		{"neither", "/app/collage", 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uintptr
			for _, m := range releasable(ms, tc.exe, tc.ino) {
				got = append(got, m.start)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("picked %x, want %x", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("picked %x, want %x", got, tc.want)
				}
			}
		})
	}
}

// TestRelease releases this test binary's pages, then runs on (reading
// its status again compiles and runs a regexp): what it touches again
// comes back, the rest stays out of its resident set.
func TestRelease(t *testing.T) {
	before := rssFile(t)
	n, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if n <= 0 || after >= before {
		t.Fatalf("released %d bytes; RssFile %d kB before, %d kB after", n, before, after)
	}
	t.Logf("released %d kB; RssFile %d kB before, %d kB after", n>>10, before, after)
}

func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RssFile:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no RssFile in /proc/self/status:\n%s", b)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb
}
