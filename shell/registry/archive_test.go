package registry_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// entry is one entry of a crafted archive.
type entry struct {
	tar.Header
	body string
}

func file(name, body string) entry {
	return entry{tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(body)), Mode: 0o644}, body}
}

// tgz writes entries as a gzip-compressed tar.
func tgz(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		if err := tw.WriteHeader(&e.Header); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
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

// bundle is the files of a small valid release of "cart".
var bundle = map[string]string{
	"cart.js":      `import "./sub/chunk.js"; export function mount() {}`,
	"cart.css":     "a{}",
	"sub/chunk.js": "export const x = 1",
}

func manifestOf(files map[string]string) *build.Manifest {
	m := &build.Manifest{Name: "cart", Version: "abc123", Entry: "cart.js", CSS: []string{"cart.css"},
		Preload: []string{"sub/chunk.js"}, Shared: []string{"preact"}, Files: map[string]build.File{}}
	for name, data := range files {
		m.Files[name] = build.File{Size: int64(len(data)), Integrity: build.Integrity([]byte(data))}
	}
	return m
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// valid returns the entries of a valid archive of cart, in the order
// WriteArchive writes them.
func valid(t testing.TB) []entry {
	t.Helper()
	return []entry{
		file("release.json", `{"frontend": "cart", "label": "v1", "bff": "local", "settings": {"delay": "0s"}}`),
		file("manifest.json", mustJSON(t, manifestOf(bundle))),
		file("files/cart.css", bundle["cart.css"]),
		file("files/cart.js", bundle["cart.js"]),
		file("files/sub/chunk.js", bundle["sub/chunk.js"]),
	}
}

// with returns the valid entries with those of the same name replaced,
// and the others appended.
func with(t testing.TB, es ...entry) []entry {
	t.Helper()
	out := valid(t)
next:
	for _, e := range es {
		for i := range out {
			if out[i].Name == e.Name {
				out[i] = e
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

func without(t testing.TB, name string) []entry {
	t.Helper()
	var out []entry
	for _, e := range valid(t) {
		if e.Name != name {
			out = append(out, e)
		}
	}
	return out
}

func TestReadArchive(t *testing.T) {
	t.Parallel()
	rel, files, err := registry.ReadArchive(bytes.NewReader(tgz(t, valid(t))), registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	want := &registry.Release{Frontend: "cart", Label: "v1", BFF: "local", Settings: bff.Settings{"delay": "0s"}, Manifest: manifestOf(bundle)}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("release = %+v, want %+v", rel, want)
	}
	for name, data := range bundle {
		if got, err := fs.ReadFile(files, name); err != nil || string(got) != data {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
	if _, err := fs.ReadFile(files, "release.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the files hold the descriptor: %v", err)
	}

	// Folders of the files may come with them, as tar makes them; a
	// frontend without a client bundle is the descriptor alone.
	dir := func(name string) entry {
		return entry{tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}, ""}
	}
	for _, es := range [][]entry{
		append([]entry{dir("files/"), dir("files/sub/")}, valid(t)...),
		{file("release.json", `{"frontend": "cart", "bff": "https://cart.example/v3"}`)},
	} {
		if _, _, err := registry.ReadArchive(bytes.NewReader(tgz(t, es)), registry.ArchiveLimits{}); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestWriteArchive(t *testing.T) {
	t.Parallel()
	m := manifestOf(bundle)
	src := fstest.MapFS{}
	for name, data := range bundle {
		src[name] = &fstest.MapFile{Data: []byte(data)}
	}
	d := registry.Descriptor{Frontend: "cart", BFF: "local"}
	var a, b bytes.Buffer
	if err := registry.WriteArchive(&a, d, m, src); err != nil {
		t.Fatal(err)
	}
	if err := registry.WriteArchive(&b, d, m, src); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same release makes different archives")
	}
	rel, files, err := registry.ReadArchive(&a, registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rel.Manifest, m) || rel.Frontend != "cart" || rel.BFF != "local" || rel.Label != "" {
		t.Errorf("release = %+v", rel)
	}
	if got, _ := fs.ReadFile(files, "sub/chunk.js"); string(got) != bundle["sub/chunk.js"] {
		t.Errorf("sub/chunk.js = %q", got)
	}
}

// sharedBundle is the files of a small release of the shared
// dependencies.
var sharedBundle = map[string]string{
	"preact-1.js":       `export * from "./chunk-1.js"`,
	"preact-hooks-1.js": `import "./chunk-1.js"; export function useState() {}`,
	"chunk-1.js":        "export const h = 1",
}

func sharedManifest() *build.Manifest {
	m := &build.Manifest{Name: build.SharedName, Version: "s1", Preload: []string{"chunk-1.js"},
		Imports:  map[string]string{"preact": "preact-1.js", "preact/hooks": "preact-hooks-1.js"},
		Packages: map[string]string{"preact": "10.19.3"}, Files: map[string]build.File{}}
	for name, data := range sharedBundle {
		m.Files[name] = build.File{Size: int64(len(data)), Integrity: build.Integrity([]byte(data))}
	}
	return m
}

// TestArchiveShared writes and reads back the release of the shared
// dependencies: a manifest of imports without an entry, and no BFF.
func TestArchiveShared(t *testing.T) {
	t.Parallel()
	m := sharedManifest()
	src := fstest.MapFS{}
	for name, data := range sharedBundle {
		src[name] = &fstest.MapFile{Data: []byte(data)}
	}
	var buf bytes.Buffer
	if err := registry.WriteArchive(&buf, registry.Descriptor{Frontend: build.SharedName, Label: "preact-10.19.3"}, m, src); err != nil {
		t.Fatal(err)
	}
	rel, files, err := registry.ReadArchive(&buf, registry.ArchiveLimits{})
	if err != nil {
		t.Fatal(err)
	}
	want := &registry.Release{Frontend: build.SharedName, Label: "preact-10.19.3", Manifest: m}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("release = %+v, want %+v", rel, want)
	}
	for name, data := range sharedBundle {
		if got, err := fs.ReadFile(files, name); err != nil || string(got) != data {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
}

func TestReadArchiveRefusesShared(t *testing.T) {
	t.Parallel()
	entries := func(descriptor string, m *build.Manifest) []entry {
		es := []entry{file("release.json", descriptor)}
		if m != nil {
			es = append(es, file("manifest.json", mustJSON(t, m)))
		}
		for name, data := range sharedBundle {
			es = append(es, file("files/"+name, data))
		}
		return es
	}
	const plain = `{"frontend": "_shared"}`
	withEntry := sharedManifest()
	withEntry.Entry = "preact-1.js"
	noImports := sharedManifest()
	noImports.Imports = nil
	importsElsewhere := sharedManifest()
	importsElsewhere.Imports["preact/compat"] = "compat.js"
	importsShared := sharedManifest()
	importsShared.Shared = []string{"preact"}
	badVersion := sharedManifest()
	badVersion.Packages["preact"] = "10.19"
	badPackage := sharedManifest()
	badPackage.Packages["preact/hooks"] = "10.19.3"
	for _, tc := range []struct {
		name    string
		entries []entry
		message string
	}{
		{"a BFF target", entries(`{"frontend": "_shared", "bff": "local"}`, sharedManifest()), `release.json: release _shared: the shared dependencies have no BFF`},
		{"settings", entries(`{"frontend": "_shared", "settings": {"delay": "1s"}}`, sharedManifest()), `release.json: release _shared: the shared dependencies have no BFF`},
		{"no manifest", entries(plain, nil)[:1], "archive: no manifest.json: the shared dependencies are a bundle"},
		{"an entry", entries(plain, withEntry), `manifest.json: entry "preact-1.js": the shared dependencies have none`},
		{"no imports", entries(plain, noImports), "manifest.json: no imports"},
		{"an import of no file", entries(plain, importsElsewhere), `manifest.json: imports: "preact/compat" → "compat.js"`},
		{"shared dependencies of its own", entries(plain, importsShared), "manifest.json: shared: the shared dependencies import no others"},
		{"a version that is not one", entries(plain, badVersion), `manifest.json: packages: preact: version "10.19": want MAJOR.MINOR.PATCH`},
		{"a specifier for a package", entries(plain, badPackage), `manifest.json: packages: "preact/hooks" is not the name of an npm package`},
		{"a frontend's manifest", entries(plain, manifestOf(bundle)), `manifest.json: names frontend "cart", the release is of "_shared"`},
	} {
		_, _, err := registry.ReadArchive(bytes.NewReader(tgz(t, tc.entries)), registry.ArchiveLimits{})
		var e *bff.Error
		if !errors.As(err, &e) || e.Code != bff.CodeBadRequest || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: error %v, want bad_request: …%s…", tc.name, err, tc.message)
		}
	}
	// A frontend still needs a BFF target, and has no imports.
	cart := manifestOf(bundle)
	cart.Imports = map[string]string{"preact": "cart.js"}
	for _, tc := range []struct {
		name    string
		entries []entry
		message string
	}{
		{"a frontend without a BFF", with(t, file("release.json", `{"frontend": "cart", "bff": ""}`)), "release.json: release cart: no BFF target"},
		{"a frontend with imports", with(t, file("manifest.json", mustJSON(t, cart))), "manifest.json: imports: only the shared dependencies' manifest has them"},
	} {
		_, _, err := registry.ReadArchive(bytes.NewReader(tgz(t, tc.entries)), registry.ArchiveLimits{})
		var e *bff.Error
		if !errors.As(err, &e) || e.Code != bff.CodeBadRequest || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: error %v, want bad_request: …%s…", tc.name, err, tc.message)
		}
	}
}

func TestReadArchiveRefuses(t *testing.T) {
	t.Parallel()
	other := manifestOf(bundle)
	other.Name = "recs"
	noEntry := manifestOf(bundle)
	noEntry.Entry = "gone.js"
	badIntegrity := manifestOf(bundle)
	badIntegrity.Files["cart.css"] = build.File{Size: 3, Integrity: "sha256-abc"}
	less := manifestOf(map[string]string{"cart.js": bundle["cart.js"]})
	less.CSS, less.Preload = nil, nil
	big := strings.Repeat("x", 2000)
	gz := tgz(t, valid(t))
	for _, tc := range []struct {
		name    string
		archive []byte
		lim     registry.ArchiveLimits
		code    string
		message string
	}{
		{"not gzip", []byte("PK\x03\x04 a zip"), registry.ArchiveLimits{}, "bad_request", "archive: not gzip"},
		{"gzip, not tar", gzipOf(t, strings.Repeat("not a tar ", 100)), registry.ArchiveLimits{}, "bad_request", "archive: not a tar"},
		{"truncated", gz[:len(gz)/2], registry.ArchiveLimits{}, "bad_request", "archive:"},
		{"over the compressed limit", gz, registry.ArchiveLimits{MaxCompressed: 100}, "payload_too_large", "over the limit of 100 compressed bytes"},
		{"over the decoded limit in a header", tgz(t, append([]entry{file("files/big.txt", big)}, valid(t)...)), registry.ArchiveLimits{MaxSize: 1000}, "payload_too_large", `"files/big.txt": 2000 bytes, over the limit of 1000 decoded bytes`},
		{"over the decoded limit in the entries", tgz(t, append([]entry{file("files/a.txt", big[:1000]), file("files/b.txt", big+big[:500])}, valid(t)...)), registry.ArchiveLimits{MaxSize: 3000}, "payload_too_large", `"files/b.txt": 2500 bytes after 1000 of the entries before it, over the limit of 3000 decoded bytes`},
		{"over the decoded limit in the stream", tgz(t, valid(t)), registry.ArchiveLimits{MaxSize: 1500}, "payload_too_large", "over the limit of 1500 decoded bytes"},
		{"absolute path", tgz(t, with(t, file("/etc/passwd", "x"))), registry.ArchiveLimits{}, "bad_request", `entry "/etc/passwd": an absolute path`},
		{"dot dot", tgz(t, with(t, file("files/../../x.js", "x"))), registry.ArchiveLimits{}, "bad_request", `entry "files/../../x.js": a path that leaves the archive`},
		{"backslash", tgz(t, with(t, file(`files\..\x.js`, "x"))), registry.ArchiveLimits{}, "bad_request", `a backslash in its path`},
		{"dot segment", tgz(t, with(t, file("./release.json", "x"))), registry.ArchiveLimits{}, "bad_request", `entry "./release.json": not a clean relative path`},
		{"symlink", tgz(t, with(t, entry{tar.Header{Typeflag: tar.TypeSymlink, Name: "files/x.js", Linkname: "/etc/passwd"}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/x.js": a symbolic link (to "/etc/passwd")`},
		{"hard link", tgz(t, with(t, entry{tar.Header{Typeflag: tar.TypeLink, Name: "files/x.js", Linkname: "files/cart.js"}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/x.js": a hard link`},
		{"char device", tgz(t, with(t, entry{tar.Header{Typeflag: tar.TypeChar, Name: "files/tty", Devmajor: 5}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/tty": a device file`},
		{"block device", tgz(t, with(t, entry{tar.Header{Typeflag: tar.TypeBlock, Name: "files/sda", Devmajor: 8}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/sda": a device file`},
		{"fifo", tgz(t, with(t, entry{tar.Header{Typeflag: tar.TypeFifo, Name: "files/pipe"}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/pipe": a FIFO`},
		{"duplicate", tgz(t, append(valid(t), file("files/cart.js", "alert(1)"))), registry.ArchiveLimits{}, "bad_request", `entry "files/cart.js": duplicate`},
		{"file and folder of one name", tgz(t, append(valid(t), entry{tar.Header{Typeflag: tar.TypeDir, Name: "files/cart.js/"}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/cart.js/": duplicate`},
		{"no descriptor", tgz(t, without(t, "release.json")), registry.ArchiveLimits{}, "bad_request", "archive: no release.json"},
		{"descriptor not JSON", tgz(t, with(t, file("release.json", "{"))), registry.ArchiveLimits{}, "bad_request", "release.json: unexpected EOF"},
		{"descriptor with an unknown field", tgz(t, with(t, file("release.json", `{"frontend": "cart", "bff": "local", "owner": "x"}`))), registry.ArchiveLimits{}, "bad_request", `release.json: json: unknown field "owner"`},
		{"descriptor without BFF", tgz(t, with(t, file("release.json", `{"frontend": "cart"}`))), registry.ArchiveLimits{}, "bad_request", "release.json: release cart: no BFF target"},
		{"descriptor of a reserved name", tgz(t, with(t, file("release.json", `{"frontend": "shell", "bff": "local"}`))), registry.ArchiveLimits{}, "bad_request", `release.json: frontend: name "shell" is reserved`},
		{"descriptor with a bad label", tgz(t, with(t, file("release.json", `{"frontend": "cart", "label": "../v1", "bff": "local"}`))), registry.ArchiveLimits{}, "bad_request", `release.json: label "../v1"`},
		{"manifest not JSON", tgz(t, with(t, file("manifest.json", "[]"))), registry.ArchiveLimits{}, "bad_request", "manifest.json: json: cannot unmarshal array"},
		{"manifest of another frontend", tgz(t, with(t, file("manifest.json", mustJSON(t, other)))), registry.ArchiveLimits{}, "bad_request", `manifest.json: names frontend "recs", the release is of "cart"`},
		{"manifest entry not among its files", tgz(t, with(t, file("manifest.json", mustJSON(t, noEntry)))), registry.ArchiveLimits{}, "bad_request", `manifest.json: names "gone.js" as entry`},
		{"manifest integrity of another kind", tgz(t, with(t, file("manifest.json", mustJSON(t, badIntegrity)))), registry.ArchiveLimits{}, "bad_request", `manifest.json: file cart.css: integrity "sha256-abc"`},
		{"a named file missing", tgz(t, without(t, "files/sub/chunk.js")), registry.ArchiveLimits{}, "bad_request", "manifest.json names sub/chunk.js, which the archive does not hold at files/sub/chunk.js"},
		{"a file no manifest names", tgz(t, with(t, file("files/evil.js", "alert(1)"))), registry.ArchiveLimits{}, "bad_request", `entry "files/evil.js": manifest.json does not name it`},
		{"a file beside the manifest", tgz(t, with(t, file("cart.js", "alert(1)"))), registry.ArchiveLimits{}, "bad_request", `entry "cart.js": manifest.json does not name it`},
		{"a file without a manifest", tgz(t, without(t, "manifest.json")), registry.ArchiveLimits{}, "bad_request", `entry "files/cart.css": no manifest.json names it`},
		{"a folder of nothing", tgz(t, with(t, entry{tar.Header{Typeflag: tar.TypeDir, Name: "files/empty/"}, ""})), registry.ArchiveLimits{}, "bad_request", `entry "files/empty/": a folder that holds none`},
		{"a manifest that names fewer files", tgz(t, with(t, file("manifest.json", mustJSON(t, less)))), registry.ArchiveLimits{}, "bad_request", `entry "files/cart.css": manifest.json does not name it`},
		{"a file of other content", tgz(t, with(t, file("files/cart.js", strings.Repeat("!", len(bundle["cart.js"]))))), registry.ArchiveLimits{}, "bad_request", `entry "files/cart.js": integrity sha384-`},
		{"a file of other size", tgz(t, with(t, file("files/cart.css", "a{};"))), registry.ArchiveLimits{}, "bad_request", `entry "files/cart.css": 4 bytes, the manifest says 3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel, files, err := registry.ReadArchive(bytes.NewReader(tc.archive), tc.lim)
			var e *bff.Error
			if !errors.As(err, &e) {
				t.Fatalf("ReadArchive = %+v, %v, %v; want a %s error", rel, files, err, tc.code)
			}
			if e.Code != tc.code || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error = %s: %s; want %s: …%s…", e.Code, e.Message, tc.code, tc.message)
			}
			if rel != nil || files != nil {
				t.Errorf("a refusal returned %+v, %v", rel, files)
			}
		})
	}
}

// TestReadArchiveBomb reads a gzip bomb, 256 MiB of zeros that compress
// to a quarter of a MiB, and stops at the decoded limit without inflating the rest.
func TestReadArchiveBomb(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	const size = 256 << 20
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "files/zeros", Size: size, Mode: 0o644})
	zeros := make([]byte, 1<<20)
	for i := 0; i < size/len(zeros); i++ {
		tw.Write(zeros)
	}
	tw.Close()
	zw.Close()
	_, _, err := registry.ReadArchive(&buf, registry.ArchiveLimits{})
	var e *bff.Error
	if !errors.As(err, &e) || e.Code != bff.CodePayloadTooLarge {
		t.Fatalf("err = %v, want payload_too_large", err)
	}
}

func gzipOf(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, s)
	zw.Close()
	return buf.Bytes()
}

// FuzzReadArchive checks that whatever the bytes, ReadArchive either
// refuses them with a coded error or returns a release whose every file
// is the one its manifest describes.
func FuzzReadArchive(f *testing.F) {
	f.Add(tgz(f, valid(f)))
	f.Add(tgz(f, with(f, file("files/../x", "x"))))
	f.Add(tgz(f, with(f, entry{tar.Header{Typeflag: tar.TypeSymlink, Name: "files/x.js", Linkname: "/etc"}, ""})))
	f.Add(tgz(f, append(valid(f), file("files/cart.js", "alert(1)"))))
	f.Add(tgz(f, with(f, file("files/cart.js", strings.Repeat("!", len(bundle["cart.js"]))))))
	f.Add(tgz(f, without(f, "manifest.json")))
	shared := []entry{file("release.json", `{"frontend": "_shared"}`), file("manifest.json", mustJSON(f, sharedManifest()))}
	for name, data := range sharedBundle {
		shared = append(shared, file("files/"+name, data))
	}
	f.Add(tgz(f, shared))
	f.Add(gzipOf(f, "not a tar"))
	f.Add([]byte{})
	lim := registry.ArchiveLimits{MaxCompressed: 1 << 20, MaxSize: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		rel, files, err := registry.ReadArchive(bytes.NewReader(data), lim)
		if err != nil {
			var e *bff.Error
			if !errors.As(err, &e) || (e.Code != bff.CodeBadRequest && e.Code != bff.CodePayloadTooLarge) || e.Message == "" {
				t.Fatalf("err = %#v, want a bad_request or payload_too_large", err)
			}
			return
		}
		if rel.Frontend == "" || (rel.BFF == "") != (rel.Frontend == build.SharedName) {
			t.Fatalf("release %+v without a frontend, or with a BFF target only the shared dependencies go without", rel)
		}
		if rel.Manifest == nil {
			return
		}
		for name, want := range rel.Manifest.Files {
			data, err := fs.ReadFile(files, name)
			if err != nil || build.Integrity(data) != want.Integrity || int64(len(data)) != want.Size {
				t.Fatalf("%s: %d bytes, %v; the manifest says %+v", name, len(data), err, want)
			}
		}
	})
}

// BenchmarkReadArchive reads an archive of 5 MiB (compressed) of
// incompressible files.
func BenchmarkReadArchive(b *testing.B) {
	files := map[string]string{}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		data := make([]byte, 256<<10)
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		files[fmt.Sprintf("chunk-%02d.js", i)] = string(data)
	}
	m := manifestOf(files)
	m.Entry, m.CSS, m.Preload = "chunk-00.js", nil, nil
	src := fstest.MapFS{}
	for name, data := range files {
		src[name] = &fstest.MapFile{Data: []byte(data)}
	}
	var buf bytes.Buffer
	if err := registry.WriteArchive(&buf, registry.Descriptor{Frontend: "cart", BFF: "local"}, m, src); err != nil {
		b.Fatal(err)
	}
	archive := buf.Bytes()
	b.SetBytes(int64(len(archive)))
	for b.Loop() {
		if _, _, err := registry.ReadArchive(bytes.NewReader(archive), registry.ArchiveLimits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(archive))/(1<<20), "MiB/archive")
}
