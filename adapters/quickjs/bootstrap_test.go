package quickjs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build/lambda"
)

func TestWithServerBundle(t *testing.T) {
	t.Parallel()
	newBFF := func(bff.Settings) (*bff.BFF, error) {
		b := bff.New("shop")
		bff.Component(b, func(context.Context, *bff.FragmentRequest) (map[string]string, error) {
			return map[string]string{"name": "Mug"}, nil
		})
		return b, nil
	}
	fragment := func(t *testing.T, dir string) (string, string) {
		t.Helper()
		b, err := WithServerBundle(newBFF, dir)(nil)
		if err != nil {
			t.Fatal(err)
		}
		ans, _ := b.RenderFragment(context.Background(), &bff.FragmentCall{Path: "/"})
		return ans.Header.Get("Content-Type"), string(ans.Body)
	}

	t.Run("beside the bootstrap", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "component"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(lambda.ServerFile)), []byte(bundle), 0o644); err != nil {
			t.Fatal(err)
		}
		ct, body := fragment(t, dir)
		if ct != "text/html; charset=utf-8" || !strings.HasSuffix(body, "</script><p>Mug</p>") {
			t.Errorf("%s: %s", ct, body)
		}
	})

	t.Run("none", func(t *testing.T) {
		t.Parallel()
		ct, body := fragment(t, t.TempDir())
		if ct != "application/vnd.collage.component+json" || body != `{"name":"Mug"}` {
			t.Errorf("%s: %s", ct, body)
		}
	})

	t.Run("broken", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "component"), 0o755)
		os.WriteFile(filepath.Join(dir, filepath.FromSlash(lambda.ServerFile)), []byte("function ("), 0o644)
		if _, err := WithServerBundle(newBFF, dir)(nil); err == nil || !strings.Contains(err.Error(), "SyntaxError") {
			t.Errorf("err = %v, want the bundle's syntax error", err)
		}
	})
}
