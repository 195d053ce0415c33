package lambda

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestAddServerBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(bin, "binary")
	zipPath := filepath.Join(dir, "shop.zip")
	if err := zipBootstrap(bin, zipPath); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "server.js"), "globalThis.collageRender = () => ''")
	write(filepath.Join(dir, "server.js.map"), `{"version":3}`)
	fn := Function{Name: "shop", Zip: zipPath}
	var err error
	// Twice: a zip packaged again holds each file once.
	for range 2 {
		if fn, err = AddServerBundle(fn, filepath.Join(dir, "server.js"), filepath.Join(dir, "server.js.map")); err != nil {
			t.Fatal(err)
		}
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]string{}
	for _, f := range zr.File {
		r, _ := f.Open()
		data, _ := io.ReadAll(r)
		r.Close()
		got[f.Name] = string(data)
		if f.Name == "bootstrap" && f.Mode()&0o111 == 0 {
			t.Errorf("bootstrap lost its executable mode: %v", f.Mode())
		}
	}
	want := map[string]string{"bootstrap": "binary", ServerFile: "globalThis.collageRender = () => ''", ServerMapFile: `{"version":3}`}
	if len(got) != len(want) {
		t.Errorf("files %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if info, _ := os.Stat(zipPath); fn.ZipBytes != info.Size() {
		t.Errorf("ZipBytes %d, the zip has %d", fn.ZipBytes, info.Size())
	}
}
