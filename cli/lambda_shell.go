package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/collage-dev/collage/adapters/brotli"
	lambdacodec "github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/adapters/redis"
	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/shell/cache"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/registry"
)

// lambdaShell serves the shell inside Lambda, as the bootstrap of its
// function: Lambda runs this binary with no arguments and
// AWS_LAMBDA_RUNTIME_API set, from the unzipped package (collage.yaml,
// its layouts and dist/), and main picks this command. The answers stream
// when COLLAGE_INVOKE_MODE is RESPONSE_STREAM, as the template collage
// build writes sets it, and are buffered otherwise (the emulator). The
// template's AssetsURL parameter arrives as COLLAGE_ASSETS_URL, which
// --assets-url overrides.
func (m *Main) lambdaShell(ctx context.Context, args []string) error {
	fs := m.flags("lambda-shell", "Serves the shell inside AWS Lambda: the bootstrap of the function collage build packages as\nlambda/shell.zip. COLLAGE_BFF_NAME=lambda://FUNCTION overrides the bff: of frontend NAME.")
	var project projectFlags
	project.register(fs)
	dist := fs.String("dist", "dist", "the output folder of collage build")
	o := serveOptions{bffs: m.BFFs}
	fs.Var(&o.sets, "set", "override a local BFF's setting: frontend.key=value (repeatable)")
	fs.Int64Var(&o.cacheBytes, "fragment-cache", cache.DefaultMaxBytes, "bytes of fragments cached in memory between invocations, when their Cache-Control allows; 0: no cache")
	fs.DurationVar(&o.pageTimeout, "page-timeout", 10*time.Second, "deadline of a whole page; keep it under the function's timeout")
	fs.DurationVar(&o.coalesce, "coalesce", compose.DefaultCoalesce, "how long a page's head waits for fragments before it streams; 0 streams the head at once")
	fs.StringVar(&o.assetsURL, "assets-url", "", assetsURLUsage+"; default: $"+buildlambda.EnvAssetsURL)
	if err := fs.Parse(args); err != nil {
		return err
	}
	environ := os.Environ()
	if !flagSet(fs, "assets-url") {
		o.assetsURL = getenv(environ, buildlambda.EnvAssetsURL)
	}
	_, cfgPath := project.paths()
	cfg, err := yaml.Load(cfgPath)
	if err != nil {
		return err
	}
	if err := o.sets.Apply(cfg); err != nil {
		return err
	}
	lambdaTargets(cfg, environ)
	// The function serves the build it was packaged with, imported into
	// memory at its cold start.
	blobs := registry.NewMemBlobs()
	back := &backing{store: registry.NewMemStore(), blobs: blobs, state: bff.NewMemState(), close: func() error { return nil }}
	if url := getenv(environ, buildlambda.EnvRedisURL); url != "" {
		// The BFFs linked into the shell keep their state where every
		// instance of the function finds it.
		rdb, err := redis.Open(url)
		if err != nil {
			return fmt.Errorf("%s: %w", buildlambda.EnvRedisURL, err)
		}
		defer rdb.Close()
		back.state = redis.NewState(rdb, "")
	}
	a, err := o.newApp(ctx, cfg, back, *dist, nil)
	if err != nil {
		return err
	}
	h := nethttp.New(a.shell, nethttp.Config{Blobs: blobs, Compressors: []build.Compressor{brotli.Compressor, build.Gzip}})
	return lambdacodec.Serve(ctx, h, lambdacodec.Options{Log: a.shell.Log()}, environ)
}

// flagSet reports whether the command line set the flag called name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// getenv is the value of the variable key in environ, or "".
func getenv(environ []string, key string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
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
