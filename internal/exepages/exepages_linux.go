package exepages

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Release drops this process's mappings of the read-only pages of its own
// executable (its code, constant data and the runtime's tables) and
// reports how many bytes of them were resident. It changes nothing the
// program sees: a page read again is mapped again from the page cache.
func Release() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("exepages: %w", err)
	}
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("exepages: %w", err)
	}
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("exepages: %w", err)
	}
	var released int64
	for _, m := range releasable(parse(smaps), exe, ino) {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); e != 0 {
			return released, fmt.Errorf("exepages: madvise %x-%x of %s: %w", m.start, m.end, exe, e)
		}
		released += m.rss
	}
	return released, nil
}

// mapping is one entry of /proc/self/smaps.
type mapping struct {
	start, end uintptr
	perms      string // such as r-xp
	inode      uint64
	path       string
	rss        int64 // bytes resident
	anonymous  int64 // bytes resident that are the process's own copies
}

// releasable picks the mappings of the executable (by its path, or by its
// inode where a container's file system shows another path) that the
// process cannot write and holds no page of its own in. A read-only page
// of its own is one a dynamic linker wrote before protecting it (the
// relocations of a position-independent or cgo binary): dropping it
// would lose the write, so such a mapping stays.
func releasable(ms []mapping, exe string, ino uint64) []mapping {
	var out []mapping
	for _, m := range ms {
		mine := m.path == exe || m.path == exe+" (deleted)" || (ino != 0 && m.inode == ino)
		if mine && !strings.Contains(m.perms, "w") && m.anonymous == 0 {
			out = append(out, m)
		}
	}
	return out
}

// parse reads the mappings of smaps, stopping at a header it cannot read.
func parse(smaps []byte) []mapping {
	var ms []mapping
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if key, ok := strings.CutSuffix(f[0], ":"); ok {
			if len(ms) == 0 || len(f) < 3 || f[2] != "kB" {
				continue
			}
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			switch key {
			case "Rss":
				ms[len(ms)-1].rss = kb << 10
			case "Anonymous":
				ms[len(ms)-1].anonymous = kb << 10
			}
			continue
		}
		// start-end perms offset dev inode [path]
		m, ok := header(line, f)
		if !ok {
			break
		}
		ms = append(ms, m)
	}
	return ms
}

// header reads the first line of a mapping, split into fields f.
func header(line string, f []string) (mapping, bool) {
	if len(f) < 5 {
		return mapping{}, false
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	inode, err3 := strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return mapping{}, false
	}
	m := mapping{start: uintptr(start), end: uintptr(end), perms: f[1], inode: inode}
	// The path is the rest of the line after the fifth field, spaces and all.
	rest := line
	for range 5 {
		rest = strings.TrimLeft(rest, " ")
		rest = rest[strings.IndexByte(rest+" ", ' '):]
	}
	m.path = strings.TrimSpace(rest)
	return m, true
}
