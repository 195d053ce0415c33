package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
)

// Names inside an archive of one release (docs/API.md, "The release
// archive").
const (
	// DescriptorFile is the release descriptor: a Descriptor in JSON.
	DescriptorFile = "release.json"
	// FilesDir holds every file the manifest names, under its name.
	FilesDir = "files/"
)

// Descriptor is what an archive says of its release besides its bundle.
type Descriptor struct {
	Frontend string `json:"frontend"`
	// Label is the team's name for the version; empty for the default,
	// the content digest.
	Label    string       `json:"label,omitempty"`
	BFF      string       `json:"bff"`
	Settings bff.Settings `json:"settings,omitempty"`
}

// ArchiveLimits bound what ReadArchive reads.
type ArchiveLimits struct {
	// MaxCompressed is the most bytes of the gzip stream read.
	// Optional. Default: 32 MiB.
	MaxCompressed int64
	// MaxSize is the most bytes of the decoded tar stream read: headers,
	// contents and padding. Everything is held in memory, so this bounds
	// the memory of one read. Optional. Default: 64 MiB.
	MaxSize int64
}

// WithDefaults is l with every zero field set to its default.
func (l ArchiveLimits) WithDefaults() ArchiveLimits {
	if l.MaxCompressed == 0 {
		l.MaxCompressed = 32 << 20
	}
	if l.MaxSize == 0 {
		l.MaxSize = 64 << 20
	}
	return l
}

// ReadArchive reads the archive of one release (a gzip-compressed tar) from
// r, and returns the release and its files as Publish takes them. It writes
// nothing anywhere. What it refuses is a *bff.Error naming the entry at
// fault: payload_too_large past a limit, bad_request for an entry that is
// not a plain file or folder at a clean relative path, a duplicate entry, a
// descriptor or manifest that does not validate, and a file missing, not
// named by the manifest, or of other size or integrity than it says.
func ReadArchive(r io.Reader, lim ArchiveLimits) (*Release, fs.FS, error) {
	lim = lim.WithDefaults()
	zc := &capped{r: r, left: lim.MaxCompressed, limit: lim.MaxCompressed, what: "compressed"}
	zr, err := gzip.NewReader(zc)
	if err != nil {
		return nil, nil, zc.or(badRequest("archive: not gzip: %v", err))
	}
	tc := &capped{r: zr, left: lim.MaxSize, limit: lim.MaxSize, what: "decoded"}
	tr := tar.NewReader(tc)
	entries := map[string][]byte{}
	dirs := map[string]bool{}
	var held int64 // bytes of the entries held, which a sparse entry makes more than it reads
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, tc.or(zc.or(badRequest("archive: not a tar after %d entries: %v", len(entries)+len(dirs), err)))
		}
		name, err := entryName(h)
		if err != nil {
			return nil, nil, err
		}
		if _, dup := entries[name]; dup || dirs[name] {
			return nil, nil, badRequest("archive: entry %q: duplicate", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			dirs[name] = true
			continue
		}
		if h.Size < 0 || h.Size > lim.MaxSize {
			return nil, nil, tooLarge("archive: entry %q: %d bytes, over the limit of %d decoded bytes", h.Name, h.Size, lim.MaxSize)
		}
		if h.Size > lim.MaxSize-held {
			return nil, nil, tooLarge("archive: entry %q: %d bytes after %d of the entries before it, over the limit of %d decoded bytes",
				h.Name, h.Size, held, lim.MaxSize)
		}
		held += h.Size
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, nil, tc.or(zc.or(badRequest("archive: entry %q: %v", h.Name, err)))
		}
		entries[name] = data
	}
	// Trailing bytes count against the limits too, and a corrupt gzip
	// trailer (its CRC) fails here.
	if _, err := io.Copy(io.Discard, tc); err != nil {
		return nil, nil, tc.or(zc.or(badRequest("archive: after the tar: %v", err)))
	}
	return release(entries, dirs)
}

// WriteArchive writes the archive of one release to w: d, then m (nil for
// a frontend without a client bundle), then every file m names, read from
// files. Entries are in a fixed order with fixed times and modes, so the
// same release makes the same bytes.
func WriteArchive(w io.Writer, d Descriptor, m *build.Manifest, files fs.FS) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	add := func(name string, data []byte) error {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644,
			ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := add(DescriptorFile, data); err != nil {
		return err
	}
	if m != nil {
		if data, err = json.MarshalIndent(m, "", "  "); err != nil {
			return err
		}
		if err := add(build.ManifestFile, data); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(m.Files)) {
			data, err := fs.ReadFile(files, name)
			if err != nil {
				return err
			}
			if err := add(FilesDir+name, data); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// entryName checks an entry's type and path, and returns its path without
// a folder's trailing slash.
func entryName(h *tar.Header) (string, error) {
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	case tar.TypeSymlink:
		return "", badRequest("archive: entry %q: a symbolic link (to %q); only files and folders are taken", h.Name, h.Linkname)
	case tar.TypeLink:
		return "", badRequest("archive: entry %q: a hard link (to %q); only files and folders are taken", h.Name, h.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return "", badRequest("archive: entry %q: a device file; only files and folders are taken", h.Name)
	case tar.TypeFifo:
		return "", badRequest("archive: entry %q: a FIFO; only files and folders are taken", h.Name)
	default:
		return "", badRequest("archive: entry %q: type %q; only files and folders are taken", h.Name, h.Typeflag)
	}
	name := h.Name
	if h.Typeflag == tar.TypeDir {
		name = strings.TrimSuffix(name, "/")
	}
	switch {
	case strings.Contains(name, `\`):
		return "", badRequest("archive: entry %q: a backslash in its path", h.Name)
	case strings.HasPrefix(name, "/"):
		return "", badRequest("archive: entry %q: an absolute path", h.Name)
	case slices.Contains(strings.Split(name, "/"), ".."):
		return "", badRequest("archive: entry %q: a path that leaves the archive (..)", h.Name)
	case !fs.ValidPath(name) || name == ".":
		return "", badRequest("archive: entry %q: not a clean relative path", h.Name)
	}
	return name, nil
}

// release checks the entries of an archive against its descriptor and
// manifest.
func release(entries map[string][]byte, dirs map[string]bool) (*Release, fs.FS, error) {
	data, ok := entries[DescriptorFile]
	if !ok {
		return nil, nil, badRequest("archive: no %s", DescriptorFile)
	}
	var d Descriptor
	if err := strictJSON(data, &d); err != nil {
		return nil, nil, badRequest("%s: %v", DescriptorFile, err)
	}
	rel := &Release{Frontend: d.Frontend, Label: d.Label, BFF: d.BFF, Settings: d.Settings}
	if err := checkDescriptor(rel); err != nil {
		return nil, nil, addFile(DescriptorFile, err)
	}
	if _, ok := entries[build.ManifestFile]; !ok && d.Frontend == build.SharedName {
		return nil, nil, badRequest("archive: no %s: the shared dependencies are a bundle", build.ManifestFile)
	}
	files := memFS{}
	if data, ok := entries[build.ManifestFile]; ok {
		var m build.Manifest
		if err := strictJSON(data, &m); err != nil {
			return nil, nil, badRequest("%s: %v", build.ManifestFile, err)
		}
		if err := checkManifest(&m, d.Frontend); err != nil {
			return nil, nil, addFile(build.ManifestFile, err)
		}
		for _, name := range slices.Sorted(maps.Keys(m.Files)) {
			f := m.Files[name]
			data, ok := entries[FilesDir+name]
			switch {
			case !ok:
				return nil, nil, badRequest("archive: %s names %s, which the archive does not hold at %s", build.ManifestFile, name, FilesDir+name)
			case int64(len(data)) != f.Size:
				return nil, nil, badRequest("archive: entry %q: %d bytes, the manifest says %d", FilesDir+name, len(data), f.Size)
			case build.Integrity(data) != f.Integrity:
				return nil, nil, badRequest("archive: entry %q: integrity %s, the manifest says %s", FilesDir+name, build.Integrity(data), f.Integrity)
			}
			files[name] = data
		}
		rel.Manifest = &m
	}
	for _, name := range slices.Sorted(maps.Keys(dirs)) {
		if name+"/" != FilesDir && !isFolderOf(name, files) {
			return nil, nil, badRequest("archive: entry %q: a folder that holds none of the files %s names", name+"/", build.ManifestFile)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		file, under := strings.CutPrefix(name, FilesDir)
		switch {
		case name == DescriptorFile || name == build.ManifestFile:
		case under && files[file] != nil:
		case rel.Manifest == nil:
			return nil, nil, badRequest("archive: entry %q: no %s names it", name, build.ManifestFile)
		default:
			return nil, nil, badRequest("archive: entry %q: %s does not name it", name, build.ManifestFile)
		}
	}
	return rel, files, nil
}

// isFolderOf reports whether dir, a path in the archive, is a folder of
// one of files under FilesDir.
func isFolderOf(dir string, files memFS) bool {
	if !strings.HasPrefix(dir, FilesDir) {
		return false
	}
	prefix := strings.TrimPrefix(dir, FilesDir) + "/"
	for name := range files {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// checkManifest checks what the shell relies on in a frontend's manifest,
// or in the shared dependencies' one.
func checkManifest(m *build.Manifest, frontend string) error {
	shared := frontend == build.SharedName
	switch {
	case m.Name != frontend:
		return badRequest("names frontend %q, the release is of %q", m.Name, frontend)
	case !build.ValidVersion(m.Version):
		return badRequest("version %q: use letters, digits, dots, dashes and underscores, at most 64", m.Version)
	case len(m.Files) == 0:
		return badRequest("no files")
	case shared && m.Entry != "":
		return badRequest("entry %q: the shared dependencies have none, only imports", m.Entry)
	case shared && len(m.Imports) == 0:
		return badRequest("no imports: the shared dependencies map each specifier to its module")
	case shared && len(m.Shared) > 0:
		return badRequest("shared: the shared dependencies import no others")
	case !shared && m.Entry == "":
		return badRequest("no entry")
	case !shared && len(m.Imports) > 0:
		return badRequest("imports: only the shared dependencies' manifest has them")
	}
	for name, f := range m.Files {
		if !fs.ValidPath(name) || name == "." || strings.Contains(name, `\`) {
			return badRequest("file %q: not a clean relative path", name)
		}
		if f.Size < 0 {
			return badRequest("file %s: size %d", name, f.Size)
		}
		sum, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(f.Integrity, "sha384-"))
		if !strings.HasPrefix(f.Integrity, "sha384-") || err != nil || len(sum) != 48 {
			return badRequest("file %s: integrity %q: want sha384- and 48 bytes in base64", name, f.Integrity)
		}
	}
	named := append(slices.Clone(m.CSS), m.Preload...)
	if !shared {
		named = append(named, m.Entry)
	}
	for _, name := range named {
		if _, ok := m.Files[name]; !ok {
			return badRequest("names %q as entry, stylesheet or preload, but not among its files", name)
		}
	}
	for _, spec := range slices.Sorted(maps.Keys(m.Imports)) {
		if _, ok := m.Files[m.Imports[spec]]; spec == "" || !ok {
			return badRequest("imports: %q → %q: want a specifier and one of its files", spec, m.Imports[spec])
		}
	}
	for _, s := range m.Shared {
		if s == "" {
			return badRequest("shared: an empty specifier")
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(m.Packages)) {
		if pkg == "" || build.PackageOf(pkg) != pkg {
			return badRequest("packages: %q is not the name of an npm package", pkg)
		}
		if _, err := parseSemver(m.Packages[pkg]); err != nil {
			return badRequest("packages: %s: %v", pkg, err)
		}
	}
	return nil
}

// strictJSON decodes one JSON value into v, refusing unknown fields and
// anything after it.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func tooLarge(format string, a ...any) error {
	return &bff.Error{Code: bff.CodePayloadTooLarge, Message: fmt.Sprintf(format, a...)}
}

// capped reads at most left bytes of r, and fails with payload_too_large
// when r holds more.
type capped struct {
	r           io.Reader
	left, limit int64
	what        string // "compressed", "decoded"
	over        error
}

func (c *capped) Read(p []byte) (int, error) {
	if c.over != nil {
		return 0, c.over
	}
	if c.left <= 0 {
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n == 0 {
			return 0, err
		}
		c.over = tooLarge("archive: over the limit of %d %s bytes", c.limit, c.what)
		return 0, c.over
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// or returns the limit's error when the limit was passed, whatever a
// reader above made of it, and err otherwise.
func (c *capped) or(err error) error {
	if c.over != nil {
		return c.over
	}
	return err
}

// memFS is the files of an archive, held in memory.
type memFS map[string][]byte

func (m memFS) Open(name string) (fs.File, error) {
	data, ok := m[name]
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(data), name: path.Base(name), size: int64(len(data))}, nil
}

type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Size() int64                { return f.size }
func (f *memFile) Mode() fs.FileMode          { return 0o444 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }
