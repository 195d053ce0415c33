package shell_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// service answers every request with its path, as a Service.
type service struct{}

func (service) Serve(req shell.Request, resp shell.Response) {
	resp.Send(http.StatusTeapot, []byte("dev "+req.Path()))
}

// TestDev: a shell in dev links the dev client after the runtime in every
// page with a head, even one with nothing to mount, and serves it; the
// Handler sends the paths under DevPrefix to EdgeConfig.Dev.
func TestDev(t *testing.T) {
	t.Parallel()
	devShell := func(dev bool) *shell.Shell {
		return newShell(t, shell.Options{
			Routes: []shell.Route{
				{Pattern: "/", Layout: parse(t, "home.html", `<head></head><collage-slot frontend="catalog"></collage-slot>`)},
				{Pattern: "/static", Layout: parse(t, "static.html", `<head></head><collage-slot frontend="header"></collage-slot>`)},
			},
			Frontends: map[string]shell.Frontend{"header": textBFF("header", "H"), "catalog": textBFF("catalog", "C")},
			Registry:  registry.New(snapshot()),
			Log:       slog.New(slog.DiscardHandler),
			Dev:       dev,
		})
	}
	tag := `<script type="module" src="` + shell.DevClientPath + `" integrity="` + runtime.DevIntegrity + `" nonce="N"></script>`
	sh := devShell(true)
	_, page := render(t, sh, 0, &compose.Request{Nonce: "N"})
	runtimeAt, devAt := strings.Index(page, shell.RuntimePath), strings.Index(page, tag)
	if runtimeAt < 0 || devAt < runtimeAt {
		t.Errorf("the dev client does not follow the runtime:\n%s", page)
	}
	_, page = render(t, sh, 1, &compose.Request{Nonce: "N"})
	if want := "<head>" + tag + "\n</head>"; !strings.HasPrefix(page, want) {
		t.Errorf("page with nothing to mount:\n got %s\nwant it to start %s", page, want)
	}
	if runtime.DevIntegrity != build.Integrity(runtime.DevSource()) || !strings.HasPrefix(runtime.DevFile, "dev-") {
		t.Errorf("DevFile %s, DevIntegrity %s: not of the dev client's source", runtime.DevFile, runtime.DevIntegrity)
	}

	h := shell.NewHandler(sh, shell.EdgeConfig{Dev: service{}})
	x := newExchange(http.MethodGet, shell.DevClientPath)
	h.Serve(x, x)
	if x.status != 200 || x.body.String() != string(runtime.DevSource()) || x.out.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("GET %s = %d %s", shell.DevClientPath, x.status, x.out.Get("Content-Type"))
	}
	x = newExchange(http.MethodGet, shell.DevPrefix+"events")
	h.Serve(x, x)
	if x.status != http.StatusTeapot || x.body.String() != "dev /_collage/dev/events" {
		t.Errorf("GET %sevents = %d %q, want the dev service's answer", shell.DevPrefix, x.status, x.body.String())
	}

	// Out of dev: no dev client in the page, none served.
	h.Swap(devShell(false))
	_, page = render(t, h.Shell(), 0, &compose.Request{Nonce: "N"})
	if strings.Contains(page, runtime.DevFile) {
		t.Errorf("a shell out of dev links the dev client:\n%s", page)
	}
	x = newExchange(http.MethodGet, shell.DevClientPath)
	h.Serve(x, x)
	if x.status != 404 {
		t.Errorf("GET %s out of dev = %d, want 404", shell.DevClientPath, x.status)
	}
	h = shell.NewHandler(devShell(false), shell.EdgeConfig{})
	x = newExchange(http.MethodGet, shell.DevPrefix+"events")
	h.Serve(x, x)
	if x.status != 404 {
		t.Errorf("GET %sevents without a dev service = %d, want 404", shell.DevPrefix, x.status)
	}
}
