package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/collage-dev/collage/adapters/brotli"
	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/build"
)

func (m *Main) build(args []string) error {
	fs := m.flags("build", "Builds every frontend under frontends/ into content-hashed bundles with manifests,\nsource maps, and a brotli and a gzip copy of each file worth compressing.\nOn an error, prints it as file:line:col and leaves the output folder as it was.")
	var project projectFlags
	project.register(fs)
	out := fs.String("out", "dist", "output folder, replaced whole when the build succeeds")
	minify := fs.Bool("minify", true, "minify the bundles")
	lambda := fs.Bool("lambda", true, "also package each BFF (frontends/NAME/bff/cmd/bootstrap) into OUT/lambda/NAME.zip, and the shell itself (when ROOT/collage.yaml exists) into OUT/lambda/shell.zip, with a SAM template OUT/template.yaml")
	arch := fs.String("lambda-arch", "arm64", "the Lambda architecture of the BFFs and the shell: arm64 or amd64")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, cfgPath := project.paths()
	start := time.Now()
	var lb *lambdaBuild
	if *lambda {
		var err error
		if lb, err = packageLambdas(context.Background(), root, cfgPath, *out, *arch, m.Stdout); err != nil {
			fmt.Fprintf(m.Stderr, "lambda: %v\nbuild failed; %s left as it was\n", err, *out)
			return errReported
		}
	}
	fmt.Fprintf(m.Stdout, "building the frontends of %s…\n", root)
	res := build.Build(build.Options{Root: root, Out: *out, Minify: *minify,
		Compressors: []build.Compressor{brotli.Compressor, build.Gzip}}, esbuild.Bundler{})
	if len(res.Errors) > 0 {
		if lb != nil {
			lb.discard()
		}
		printErrors(m.Stderr, res.Errors)
		fmt.Fprintf(m.Stderr, "build failed with %d error(s); %s left as it was\n", len(res.Errors), *out)
		return errReported
	}
	printSizes(m.Stdout, res)
	if lb != nil {
		if err := lb.install(res); err != nil {
			return fmt.Errorf("installing the Lambda packages into %s: %w", *out, err)
		}
		printLambdaSizes(m.Stdout, lb)
	}
	fmt.Fprintf(m.Stdout, "built %d frontend(s) into %s in %s", len(res.Index.Frontends), *out, res.Took.Round(time.Millisecond))
	if lb != nil {
		n := len(lb.res.Functions)
		if lb.shell != nil {
			n++
		}
		fmt.Fprintf(m.Stdout, ", and %d Lambda package(s): %s in all", n, time.Since(start).Round(100*time.Millisecond))
	}
	fmt.Fprintln(m.Stdout)
	return nil
}

func printErrors(w io.Writer, msgs []build.Message) {
	for _, msg := range msgs {
		fmt.Fprintf(w, "%s\n", msg)
		if msg.Source != "" {
			fmt.Fprintf(w, "    %s\n", msg.Source)
		}
	}
}

// printSizes prints each bundle's JavaScript and CSS, raw and gzipped,
// without source maps.
func printSizes(w io.Writer, res *build.Result) {
	names := make([]string, 0, len(res.Manifests))
	for name := range res.Manifests {
		names = append(names, name)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bundle\tversion\tjs\tjs gzip\tcss\tcss gzip\t")
	for _, name := range names {
		m := res.Manifests[name]
		s := m.BrowserSizes()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", name, m.Version, kb(s.JS), kb(s.JSGzip), kb(s.CSS), kb(s.CSSGzip))
	}
	tw.Flush()
}

func kb(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1000)
}
