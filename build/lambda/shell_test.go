package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/internal/golden"
)

func TestTemplateWithShell(t *testing.T) {
	t.Parallel()
	got := lambda.Template(lambda.Options{BFFs: []lambda.BFF{{Name: "recs"}, {Name: "my-cart"}, {Name: "header"}},
		Shell: &lambda.Shell{Lambda: []string{"recs", "my-cart"}}})
	golden.Check(t, filepath.Join("testdata", "template-shell.golden.yaml"), got)
	for _, want := range []string{
		"InvokeMode: RESPONSE_STREAM", "AuthType: NONE", "COLLAGE_INVOKE_MODE: RESPONSE_STREAM",
		`COLLAGE_BFF_my_cart: !Sub "lambda://${MyCartFunction}"`, "FunctionName: !Ref RecsFunction",
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the template has no %q", want)
		}
	}
	if bytes.Contains(got, []byte("COLLAGE_BFF_header")) {
		t.Error("the template sends the shell to a BFF it does not reach through Lambda")
	}
}

func TestPackageRefusesShellNames(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	for _, c := range []struct {
		name string
		opts lambda.Options
		bff  string
	}{
		{"a BFF called shell", lambda.Options{Out: out, BFFs: []lambda.BFF{{Name: "shell", Main: "./x"}}}, "shell"},
		{"the shell reaches an unpackaged BFF", lambda.Options{Out: out, BFFs: []lambda.BFF{{Name: "cart", Main: "./x"}},
			Shell: &lambda.Shell{Lambda: []string{"recs"}}}, "recs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e *lambda.Error
			if _, err := lambda.Package(context.Background(), c.opts); !errors.As(err, &e) || e.Code != "bad_option" || e.BFF != c.bff {
				t.Errorf("Package = %v; want a bad_option for %s", err, c.bff)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a refused Package wrote %v", entries)
	}
}

// TestZipShell zips a bootstrap with a config, a layout and a built
// asset, and checks the names, modes and bytes, that the same files give
// the same zip, and that a name outside the zip is refused.
func TestZipShell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bin := write("build/bootstrap", "\x7fELF…")
	write("dist/assets/cart/v1/cart.js", "js")
	write("dist/assets/cart/v1/cart.js.map", "map")
	assets, err := lambda.DirFiles(filepath.Join(dir, "dist", "assets"), "dist/assets", func(name string) bool { return strings.HasSuffix(name, ".map") })
	if err != nil {
		t.Fatal(err)
	}
	files := append(assets, lambda.ShellFile{Name: "collage.yaml", Path: write("collage.yaml", "routes: {}")},
		lambda.ShellFile{Name: "layouts/home.html", Path: write("layouts/home.html", "<html>")})

	zipPath := filepath.Join(dir, "shell.zip")
	f, err := lambda.ZipShell(zipPath, bin, files)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "shell" || f.BootstrapBytes != int64(len("\x7fELF…")) || f.ZipBytes == 0 {
		t.Errorf("ZipShell = %+v", f)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var got []string
	for _, zf := range zr.File {
		rc, _ := zf.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		got = append(got, zf.Name+" "+zf.Mode().Perm().String()+" "+string(data))
		if !zf.Modified.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s is dated %s; want the fixed time", zf.Name, zf.Modified)
		}
	}
	want := []string{"bootstrap -rwxr-xr-x \x7fELF…", "collage.yaml -rw-r--r-- routes: {}",
		"dist/assets/cart/v1/cart.js -rw-r--r-- js", "layouts/home.html -rw-r--r-- <html>"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the zip holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	again := filepath.Join(dir, "again.zip")
	if _, err := lambda.ZipShell(again, bin, files[1:]); err != nil {
		t.Fatal(err)
	}
	if _, err := lambda.ZipShell(again, bin, append(files[1:], files[0])); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(zipPath)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("the same files in another order gave another zip")
	}

	for _, name := range []string{"../etc/passwd", "/abs", "bootstrap", "collage.yaml"} {
		var e *lambda.Error
		_, err := lambda.ZipShell(filepath.Join(dir, "bad.zip"), bin, append(files, lambda.ShellFile{Name: name, Path: bin}))
		if !errors.As(err, &e) || e.Code != "bad_option" {
			t.Errorf("ZipShell with a file named %q = %v; want a bad_option", name, err)
		}
	}
}
