package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collage-dev/collage/adapters/fiber"
	lambdacodec "github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/yaml"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/cache"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// lambdaShell serves the shell inside Lambda, as the bootstrap of its
// function: Lambda runs this binary with no arguments and
// AWS_LAMBDA_RUNTIME_API set, from the unzipped package (collage.yaml,
// its layouts and dist/), and main picks this command. The answers stream
// when COLLAGE_INVOKE_MODE is RESPONSE_STREAM, as the template collage
// build writes sets it, and are buffered otherwise (the emulator).
func (m *Main) lambdaShell(ctx context.Context, args []string) error {
	fs := m.flags("lambda-shell", "Serves the shell inside AWS Lambda: the bootstrap of the function collage build packages as\nlambda/shell.zip. COLLAGE_BFF_NAME=lambda://FUNCTION overrides the bff: of frontend NAME.")
	cfgPath := fs.String("config", "collage.yaml", "the config file")
	dist := fs.String("dist", "dist", "the output folder of collage build")
	var o serveOptions
	fs.Var(&o.sets, "set", "override a local BFF's setting: frontend.key=value (repeatable)")
	fs.Int64Var(&o.cacheBytes, "fragment-cache", cache.DefaultMaxBytes, "bytes of fragments cached in memory between invocations, when their Cache-Control allows; 0: no cache")
	fs.DurationVar(&o.pageTimeout, "page-timeout", 10*time.Second, "deadline of a whole page; keep it under the function's timeout")
	fs.DurationVar(&o.coalesce, "coalesce", compose.DefaultCoalesce, "how long a page's head waits for fragments before it streams; 0 streams the head at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.cacheBytes < 0 {
		return fmt.Errorf("--fragment-cache %d: want a number of bytes, or 0 for no cache", o.cacheBytes)
	}
	opts, err := o.shellOptions()
	if err != nil {
		return err
	}
	cfg, err := yaml.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := o.sets.apply(cfg); err != nil {
		return err
	}
	environ := os.Environ()
	lambdaTargets(cfg, environ)
	snap, err := registry.LoadDir(*dist)
	if err != nil {
		return err
	}
	frontends, err := invokers(cfg)
	if err != nil {
		return err
	}
	opts.Frontends, opts.Registry, opts.Redirects = frontends, registry.New(snap), cfg.Redirects
	opts.Fetcher = cache.New(shell.NewFetcher(frontends, 0),
		cache.Options{MaxBytes: o.cacheBytes, NoCache: o.cacheBytes == 0, NoCollapse: o.noCollapse})
	for _, r := range cfg.Routes {
		opts.Routes = append(opts.Routes, shell.Route{Pattern: r.Pattern, Layout: r.Layout})
	}
	sh, err := shell.New(opts)
	if err != nil {
		return err
	}
	// The shell's net/http handler goes here.
	h := shellHandler(sh, filepath.Join(*dist, "assets"))
	return lambdacodec.Serve(ctx, h, lambdacodec.Options{Log: sh.Log()}, environ)
}

// lambdaTargets points each frontend whose environ has a
// COLLAGE_BFF_NAME at that target: the template gives the shell the
// names of the BFFs' functions, which collage.yaml cannot know.
func lambdaTargets(cfg *yaml.Config, environ []string) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for name, f := range cfg.Frontends {
		if v := env[buildlambda.EnvBFF(name)]; v != "" {
			f.BFF = v
			cfg.Frontends[name] = f
		}
	}
}

// shellHandler serves sh's pages, the client runtime and the built
// bundles under assets over net/http, for the Lambda codec. Pages stream:
// each flush of the composer is a Flush of the response.
func shellHandler(sh *shell.Shell, assets string) http.Handler {
	mux := http.NewServeMux()
	rt := runtime.Source()
	mux.HandleFunc("GET "+shell.RuntimePath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(rt)
	})
	files := http.StripPrefix("/assets/", http.FileServer(http.Dir(assets)))
	mux.HandleFunc("GET /assets/{name}/{version}/{file...}", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".map") || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
	for _, p := range sh.Pages() {
		pattern := p.Pattern
		if strings.HasSuffix(pattern, "/") {
			pattern += "{$}"
		}
		mux.Handle("GET "+pattern, pageHandler(sh, p))
	}
	return mux
}

func pageHandler(sh *shell.Shell, p *shell.Page) http.HandlerFunc {
	csp := strings.Split(fiber.DefaultCSP, "{nonce}")
	return func(w http.ResponseWriter, r *http.Request) {
		nonce := newNonce()
		inv, _ := lambdacodec.FromContext(r.Context())
		header := http.Header{}
		for _, k := range append(shell.Forwarded, sh.Credentials()...) {
			if v := r.Header.Get(k); v != "" {
				header[http.CanonicalHeaderKey(k)] = []string{v}
			}
		}
		id := header.Get("X-Request-Id")
		if id == "" {
			id = inv.RequestID
			header.Set("X-Request-Id", id)
		}
		var params []string
		for _, n := range p.Params {
			params = append(params, url.QueryEscape(n)+"="+url.QueryEscape(r.PathValue(n)))
		}
		req := &compose.Request{Path: r.URL.RequestURI(), Params: strings.Join(params, "&"), Header: header,
			Nonce: nonce, ID: id, Origin: "https://" + r.Host}
		render, done := sh.Compose(p, req)
		defer done()
		status, h := render.Status()
		for k, vs := range h {
			w.Header()[k] = append(w.Header()[k], vs...)
		}
		w.Header().Set("Content-Security-Policy", strings.Join(csp, nonce))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if compose.Redirect(status) || r.Method == http.MethodHead {
			w.Header().Set("Server-Timing", render.ServerTiming())
			w.WriteHeader(status)
			return
		}
		var prefix strings.Builder
		complete, err := render.WritePrefix(&prefix)
		w.Header().Set("Server-Timing", render.ServerTiming())
		w.WriteHeader(status)
		out := flusher{w, http.NewResponseController(w)}
		out.Write([]byte(prefix.String()))
		if err == nil && !complete {
			err = render.WriteTo(out)
		}
		if err != nil {
			sh.Log().Info("page stream ended early", "request_id", id, "err", err)
		}
	}
}

// flusher is a compose.Writer over a streaming response.
type flusher struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (f flusher) Flush() error { return f.rc.Flush() }

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}
