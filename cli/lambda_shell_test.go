package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/internal/emulator"
	"github.com/collage-dev/collage/shell"
)

// packageShell runs collage build on the demo for this machine's
// architecture and unzips the shell's package, as Lambda does into
// /var/task. It returns that folder and the output folder.
func packageShell(t testing.TB) (task, dist string) {
	t.Helper()
	needNodeModules(t)
	dist = filepath.Join(t.TempDir(), "dist")
	var out strings.Builder
	m := &Main{BFFs: shop, Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background(), []string{"build", "--root", root, "--out", dist, "--lambda-arch", runtime.GOARCH}); err != nil {
		t.Fatalf("collage build: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), filepath.Join(dist, "lambda", "shell.zip")) {
		t.Errorf("the output does not give the shell's sizes:\n%s", out.String())
	}
	task = t.TempDir()
	zr, err := zip.OpenReader(filepath.Join(dist, "lambda", "shell.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		p := filepath.Join(task, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, f.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return task, dist
}

// zipNames lists the files of the shell's zip, unzipped at task.
func zipNames(t *testing.T, task string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(task, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(task, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	return names
}

// TestShellOnLambda packages the demo's shell with collage build, checks
// the package and its template, and serves the demo from the package's
// bootstrap: buffered under aws-lambda-rie (a whole composed page and an
// asset), and streamed against the fake Runtime API, where the page's head
// arrives before its slow recommendations.
func TestShellOnLambda(t *testing.T) {
	rie := emulator.Require(t)
	task, dist := packageShell(t)

	names := zipNames(t, task)
	var js string
	for _, want := range []string{"bootstrap", "collage.yaml", "layouts/home.html", "layouts/product.html", "dist/collage.json"} {
		if !slices.Contains(names, want) {
			t.Errorf("the shell's zip has no %s: %v", want, names)
		}
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".br") || strings.HasSuffix(n, ".gz") {
			t.Errorf("the shell's zip holds the compressed copy %s: the shell compresses what it serves", n)
		}
		if strings.HasPrefix(n, "dist/assets/cart/") && strings.HasSuffix(n, ".js") {
			js = strings.TrimPrefix(n, "dist")
		}
	}
	if js == "" {
		t.Fatalf("the shell's zip has no script of the cart: %v", names)
	}
	tmpl, err := os.ReadFile(filepath.Join(dist, buildlambda.TemplateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  ShellFunction:", `CodeUri: "lambda/shell.zip"`, "InvokeMode: RESPONSE_STREAM", "COLLAGE_INVOKE_MODE: RESPONSE_STREAM"} {
		if !strings.Contains(string(tmpl), want) {
			t.Errorf("template.yaml has no %q", want)
		}
	}

	t.Run("buffered under the emulator", func(t *testing.T) {
		em := emulator.StartT(t, rie, filepath.Join(task, "bootstrap"))
		for _, c := range []struct{ path, contentType, want string }{
			{"/", "text/html; charset=utf-8", `<p class="cart-empty">`},
			{"/products/1", "text/html; charset=utf-8", `class="header"`},
			{js, "text/javascript; charset=utf-8", ""},
			{shell.RuntimePath, "text/javascript; charset=utf-8", ""},
		} {
			status, out, err := em.Invoke(context.Background(), []byte(event(c.path)))
			var got struct {
				StatusCode      int
				Headers         map[string]string
				Body            string
				IsBase64Encoded bool
			}
			if err != nil || status != 200 || json.Unmarshal(out, &got) != nil {
				t.Fatalf("GET %s: %d %s %v", c.path, status, out, err)
			}
			if got.StatusCode != 200 || got.Headers["Content-Type"] != c.contentType || !strings.Contains(got.Body, c.want) || got.Body == "" {
				t.Errorf("GET %s = %d %q, %d bytes; want 200 %s with %q:\n%.600s", c.path, got.StatusCode,
					got.Headers["Content-Type"], len(got.Body), c.contentType, c.want, got.Body)
			}
		}
	})

	t.Run("streamed to a Function URL", func(t *testing.T) {
		api := emulator.NewRuntimeAPI(t)
		// Lambda runs the bootstrap without arguments; here it also slows
		// the recommendations, an async slot with a 300ms deadline.
		cmd := exec.Command(filepath.Join(task, "bootstrap"), "lambda-shell", "--set", "recs.delay=250ms")
		cmd.Dir = task
		cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "COLLAGE_INVOKE_MODE=RESPONSE_STREAM")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("bootstrap output:\n%s", out.String())
			}
		})
		var firstBytes []time.Duration
		for i := range 3 {
			a := api.Invoke(t, []byte(event("/")), 60*time.Second)
			if a.Header.Get("Lambda-Runtime-Function-Response-Mode") != "streaming" || !a.Chunked {
				t.Fatalf("the answer is not streamed: %v", a.Header)
			}
			prelude, body, ok := bytes.Cut(a.Body(), make([]byte, 8))
			if !ok || !bytes.Contains(prelude, []byte(`"statusCode":200`)) || !bytes.Contains(prelude, []byte("Content-Security-Policy")) {
				t.Fatalf("prelude %q", prelude)
			}
			if !bytes.Contains(body, []byte("</html>")) || !bytes.Contains(body, []byte(`class="recs`)) {
				t.Errorf("the page is not whole:\n%s", body)
			}
			head, ok1 := a.Arrived("<!doctype html>")
			// The async slot's content, or its fallback past the deadline.
			recs, ok2 := a.Arrived("<template data-collage-fill=")
			if !ok1 || !ok2 || !recs.After(head) {
				t.Errorf("the head arrived at %v, the recommendations at %v: want the head first, in its own chunk (%d chunks)",
					head.Sub(a.Sent), recs.Sub(a.Sent), len(a.Chunks))
			}
			firstBytes = append(firstBytes, a.FirstByte())
			t.Logf("invocation %d: first byte after %s, the recommendations %s later, %d chunks", i+1,
				a.FirstByte().Round(time.Millisecond), recs.Sub(head).Round(time.Millisecond), len(a.Chunks))
		}
	})
}

// BenchmarkShellOnLambda measures the shell's bootstrap from the package
// collage build writes: its cold start under the emulator (from the first
// invocation, which starts the bootstrap process, to the whole home page),
// and the first byte of a streamed home page through the fake Runtime
// API, warm, with the recommendations slowed to 250ms. It also reports the
// bootstrap's size for this machine's architecture.
func BenchmarkShellOnLambda(b *testing.B) {
	rie := emulator.Require(b)
	task, _ := packageShell(b)
	bin := filepath.Join(task, "bootstrap")
	info, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cold-start-emulator", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			b.StopTimer()
			em, err := emulator.Start(rie, bin)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			status, out, err := em.Invoke(context.Background(), []byte(event("/")))
			took = append(took, time.Since(start))
			b.StopTimer()
			em.Close()
			if err != nil || status != 200 || !bytes.Contains(out, []byte(`"statusCode":200`)) {
				b.Fatalf("first invocation: %d %s %v", status, out, err)
			}
			b.StartTimer()
		}
		reportQuantiles(b, took, "cold-ms")
		b.ReportMetric(float64(info.Size())/1e6, "bootstrap-MB")
	})
	b.Run("first-byte-streamed", func(b *testing.B) {
		api := emulator.NewRuntimeAPI(b)
		cmd := exec.Command(bin, "lambda-shell", "--set", "recs.delay=250ms")
		cmd.Dir = task
		cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "COLLAGE_INVOKE_MODE=RESPONSE_STREAM")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		var first, whole []time.Duration
		for b.Loop() {
			a := api.Invoke(b, []byte(event("/")), 60*time.Second)
			first = append(first, a.FirstByte())
			whole = append(whole, a.Chunks[len(a.Chunks)-1].At.Sub(a.Sent))
		}
		reportQuantiles(b, first, "first-byte-ms")
		reportQuantiles(b, whole, "last-byte-ms")
	})
}

// reportQuantiles reports the median and the maximum of took as
// p50-UNIT and max-UNIT, in milliseconds.
func reportQuantiles(b *testing.B, took []time.Duration, unit string) {
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1e3, "p50-"+unit)
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1e3, "max-"+unit)
}

func event(path string) string {
	return `{"version":"2.0","rawPath":"` + path + `","headers":{"host":"abc.lambda-url.us-east-1.on.aws","user-agent":"test"},` +
		`"requestContext":{"http":{"method":"GET","sourceIp":"127.0.0.1"}}}`
}
