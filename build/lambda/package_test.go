package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
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

// root is the module root, from this package's folder.
const root = "../.."

func TestTemplate(t *testing.T) {
	t.Parallel()
	got := lambda.Template(lambda.Options{Arch: lambda.AMD64, MemoryMB: 512, Timeout: 1500 * time.Millisecond, BFFs: []lambda.BFF{
		{Name: "recs", Settings: map[string]string{"delay": "300ms", "greeting": "say \"hi\": ok\n"}},
		{Name: "my-cart"},
	}})
	golden.Check(t, filepath.Join("testdata", "template.golden.yaml"), got)
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	got := lambda.Discover(root, []string{"recs", "cart", "no-such-bff"})
	if len(got) != 2 || got[0].Name != "cart" || got[0].Main != "./frontends/cart/bff/cmd/bootstrap" || got[1].Name != "recs" {
		t.Errorf("Discover = %+v", got)
	}
}

// TestPackage packages the demo cart for arm64, the default, and checks
// the zip holds a static, executable linux/arm64 bootstrap under 20 MB.
// The cart links go-redis for its state, which html/template's method
// lookup by name keeps whole: 15.9 MiB, where a BFF without it is 9 MiB.
func TestPackage(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "keep.txt"), []byte("mine"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	res, err := lambda.Package(ctx, lambda.Options{Root: root, Out: out, BFFs: []lambda.BFF{
		{Name: "cart", Main: "./frontends/cart/bff/cmd/bootstrap", Settings: map[string]string{"x": "1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Functions[0]
	if f.Zip != filepath.Join(out, "lambda", "cart.zip") || f.BootstrapBytes == 0 || f.BootstrapBytes > 20<<20 {
		t.Errorf("function %+v: want lambda/cart.zip with a bootstrap under 20 MB", f)
	}
	zr, err := zip.OpenReader(f.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip holds %v; want one executable bootstrap", zr.File)
	}
	rc, _ := zr.File[0].Open()
	data, _ := io.ReadAll(rc)
	rc.Close()
	bin, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if bin.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is for %v, want aarch64", bin.Machine)
	}
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked; provided.al2023 wants a static binary")
		}
	}
	tmpl, err := os.ReadFile(filepath.Join(out, lambda.TemplateFile))
	if err != nil || !strings.Contains(string(tmpl), `CodeUri: "lambda/cart.zip"`) || !strings.Contains(string(tmpl), `COLLAGE_SETTING_x: "1"`) {
		t.Errorf("template: %v\n%s", err, tmpl)
	}
	if keep, _ := os.ReadFile(filepath.Join(out, "keep.txt")); string(keep) != "mine" {
		t.Error("Package touched a file it does not own")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 3 {
		t.Errorf("out holds %d entries, want keep.txt, lambda and template.yaml: a temporary folder was left", len(entries))
	}
}

// TestPackageFailureLeavesOut checks a failed build leaves no half files.
func TestPackageFailureLeavesOut(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "lambda"), 0o755)
	os.WriteFile(filepath.Join(out, "lambda", "old.zip"), []byte("old"), 0o644)
	ctx := context.Background()
	_, err := lambda.Package(ctx, lambda.Options{Root: root, Out: out, Arch: lambda.AMD64, BFFs: []lambda.BFF{
		{Name: "cart", Main: "./frontends/cart/bff/cmd/bootstrap"}, {Name: "ghost", Main: "./frontends/ghost/bff/cmd/bootstrap"}}})
	var e *lambda.Error
	if !errors.As(err, &e) || e.Code != "go_build" || e.BFF != "ghost" {
		t.Fatalf("Package = %v; want a go_build error for ghost", err)
	}
	entries, _ := os.ReadDir(out)
	old, _ := os.ReadFile(filepath.Join(out, "lambda", "old.zip"))
	if len(entries) != 1 || string(old) != "old" {
		t.Errorf("a failed package changed out: %v", entries)
	}

	for _, opts := range []lambda.Options{
		{Out: out, Arch: "x86"},
		{Out: out, BFFs: []lambda.BFF{{Name: "cart", Settings: map[string]string{"max-items": "3"}}}},
		{Out: out, BFFs: []lambda.BFF{{Name: "Cart"}}},
	} {
		if _, err := lambda.Package(ctx, opts); !errors.As(err, &e) || (e.Code != "bad_option" && e.Code != "bad_setting") {
			t.Errorf("Package(%+v) = %v; want a bad option", opts, err)
		}
	}
}
