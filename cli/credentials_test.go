package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/yaml"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	cart "github.com/collage-dev/collage/frontends/cart/bff"
	"github.com/collage-dev/collage/internal/emulator"
)

// TestCredentialsStayWithTheirBFF serves two frontends whose BFFs show what
// they receive: alpha over HTTP, declaring its cookie and Authorization,
// and beta on Lambda under the emulator, declaring its cookie. On pages
// and on /bff calls each sees only its own cookie, only alpha sees
// Authorization, and neither can set a cookie it does not declare.
func TestCredentialsStayWithTheirBFF(t *testing.T) {
	forEachServer(t, func(t *testing.T, server string) {
		rie := emulator.Require(t)
		bin := filepath.Join(t.TempDir(), "bootstrap")
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		if err := buildlambda.BuildBootstrap(ctx, "go", root, "./cli/testdata/spybff", "linux", runtime.GOARCH, bin); err != nil {
			t.Fatal(err)
		}
		alpha := startSpy(t, bin, "alpha")
		em := emulator.StartT(t, rie, bin, "COLLAGE_SETTING_name=beta")
		// The first invocation starts the bootstrap: do it before the pages.
		if _, _, err := em.Invoke(ctx, []byte(`{"version":"2.0","rawPath":"/seen","requestContext":{"http":{"method":"GET"}}}`)); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"AWS_ENDPOINT_URL_LAMBDA": em.URL, "AWS_REGION": "us-east-1",
			"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
			"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
			t.Setenv(k, v)
		}
		dir := t.TempDir()
		slots := func(primary string) string {
			s := "<!doctype html><html><head></head><body>\n"
			for _, name := range []string{"alpha", "beta"} {
				attrs := ""
				if name == primary {
					attrs = " primary"
				}
				s += fmt.Sprintf("<collage-slot frontend=%q timeout=\"20s\"%s>%s is down</collage-slot>\n", name, attrs, name)
			}
			return s + "</body></html>\n"
		}
		os.WriteFile(filepath.Join(dir, "alpha.html"), []byte(slots("alpha")), 0o644)
		os.WriteFile(filepath.Join(dir, "beta.html"), []byte(slots("beta")), 0o644)
		cfg := filepath.Join(dir, "collage.yaml")
		os.WriteFile(cfg, []byte("layouts: .\nroutes:\n  /alpha: alpha.html\n  /beta: beta.html\nfrontends:\n"+
			"  alpha: { bff: \""+alpha+"\", cookies: [alpha_session], headers: [Authorization] }\n"+
			"  beta:  { bff: \"lambda://function\", cookies: [beta_session] }\n"), 0o644)
		url := start(t, "serve", "--config", cfg, "--dist", filepath.Join(dir, "no-dist"), "--addr", "127.0.0.1:0", "--server", server)

		c := &http.Client{Timeout: 60 * time.Second}
		send := func(path string) (*http.Response, string) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, url+path, nil)
			req.Header.Set("Cookie", "_ga=GA1; alpha_session=A1; beta_session=B1; intruder=x")
			req.Header.Set("Authorization", "Bearer alpha-token")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp, string(body)
		}
		setCookies := func(resp *http.Response) []string {
			var names []string
			for _, ck := range resp.Cookies() {
				names = append(names, ck.Name+"="+ck.Value)
			}
			return names
		}
		seenAlpha := Seen{"alpha", "alpha_session=A1", "Bearer alpha-token"}
		seenBeta := Seen{"beta", "beta_session=B1", ""}

		for _, primary := range []Seen{seenAlpha, seenBeta} {
			resp, page := send("/" + primary.Name)
			if resp.StatusCode != 200 {
				t.Fatalf("GET /%s = %d:\n%s", primary.Name, resp.StatusCode, page)
			}
			for _, s := range []Seen{seenAlpha, seenBeta} {
				if want := `<p class="spy">` + s.Name + "|" + s.Cookie + "|" + s.Authorization + "</p>"; !strings.Contains(page, want) {
					t.Errorf("GET /%s: %s's fragment is not %s:\n%s", primary.Name, s.Name, want, page)
				}
			}
			if got, want := setCookies(resp), []string{primary.Name + "_session=fresh-" + primary.Name}; !slices.Equal(got, want) {
				t.Errorf("GET /%s sets cookies %q, want only the primary's own %q", primary.Name, got, want)
			}
		}

		for _, s := range []Seen{seenAlpha, seenBeta} {
			resp, body := send("/bff/" + s.Name + "/seen")
			var got Seen
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &got) != nil {
				t.Fatalf("GET /bff/%s/seen = %d %s", s.Name, resp.StatusCode, body)
			}
			if got != s {
				t.Errorf("/bff/%s received %+v, want %+v", s.Name, got, s)
			}
			if got, want := setCookies(resp), []string{s.Name + "_session=fresh-" + s.Name}; !slices.Equal(got, want) {
				t.Errorf("GET /bff/%s/seen sets cookies %q, want only its own %q", s.Name, got, want)
			}
		}
	})
}

// Seen is what the spy BFF received, as its /seen answers.
type Seen struct {
	Name          string `json:"name"`
	Cookie        string `json:"cookie"`
	Authorization string `json:"authorization"`
}

// startSpy runs the spy BFF's bootstrap as a local HTTP server called name
// until the test ends, and returns its URL.
func startSpy(t *testing.T, bin, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	var out strings.Builder
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "HOST=127.0.0.1", "COLLAGE_SETTING_name="+name)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("spy BFF %s:\n%s", name, out.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spy BFF %s does not listen on %s:\n%s", name, addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDemoDeclaresCartCookie checks the demo's cart declares the cookie
// that holds its session, without which the cart forgets every visitor.
func TestDemoDeclaresCartCookie(t *testing.T) {
	cfg, err := yaml.Load(filepath.Join(root, "collage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Frontends["cart"].Cookies; !slices.Contains(got, cart.CookieName) {
		t.Errorf("collage.yaml: the cart declares cookies %q, want %s among them", got, cart.CookieName)
	}
}
