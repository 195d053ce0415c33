package testbin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// A Release is a new release of recs, made from the one collage pack
// built: its files, and more of random bytes.
type Release struct {
	Label    string
	Manifest *build.Manifest
	Files    map[string][]byte // by name, under files/ in the archive
}

// NewRelease makes a release of recs labelled label, with count more
// files (extra-00.bin, ...) of size random bytes each.
func (d *Demo) NewRelease(t testing.TB, label string, count, size int) *Release {
	t.Helper()
	m := *d.recs.Manifest
	m.Version = label
	m.Files = maps.Clone(d.recs.Manifest.Files)
	r := &Release{Label: label, Manifest: &m, Files: map[string][]byte{}}
	for name := range m.Files {
		data, err := fs.ReadFile(d.recsFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		r.Files[name] = data
	}
	for i := range count {
		data := make([]byte, size)
		rand.Read(data) // never fails
		name := fmt.Sprintf("extra-%02d.bin", i)
		r.Files[name] = data
		m.Files[name] = build.File{Size: int64(size), Integrity: build.Integrity(data)}
	}
	return r
}

// Entries are the release's archive entries as collage pack writes them,
// with bff as its descriptor's BFF.
func (r *Release) Entries(t testing.TB, bff string) []Entry {
	t.Helper()
	d, err := json.Marshal(registry.Descriptor{Frontend: r.Manifest.Name, Label: r.Label, BFF: bff})
	if err != nil {
		t.Fatal(err)
	}
	m, err := json.Marshal(r.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	out := []Entry{{Name: registry.DescriptorFile, Data: d}, {Name: build.ManifestFile, Data: m}}
	for _, name := range slices.Sorted(maps.Keys(r.Files)) {
		out = append(out, Entry{Name: registry.FilesDir + name, Data: r.Files[name]})
	}
	return out
}

// Archive is the release's archive, its BFF linked into the shell. Random
// content cannot shrink: it is stored.
func (r *Release) Archive(t testing.TB) []byte {
	t.Helper()
	return TarGz(t, gzip.NoCompression, r.Entries(t, "local"))
}

// An Entry is one entry of a tar archive.
type Entry struct {
	Name string
	Type byte // tar.TypeReg when 0
	Data []byte
	Link string
}

// TarGz makes a gzip-compressed tar of entries, in order, at the gzip
// level: gzip.NoCompression for random content, which cannot shrink.
func TarGz(t testing.TB, level int, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	size := 1024
	for _, e := range entries {
		size += 1024 + len(e.Data)
	}
	buf.Grow(size) // once: large archives are slow to copy under the race detector
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: 0o644, Size: int64(len(e.Data)), Linkname: e.Link, ModTime: time.Unix(0, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.Data); err != nil && h.Size > 0 {
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
