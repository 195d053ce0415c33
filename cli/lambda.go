package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/collage-dev/collage/adapters/awssdk"
	lambdacodec "github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/build"
	buildlambda "github.com/collage-dev/collage/build/lambda"
	"github.com/collage-dev/collage/shell/invoke"
)

// lambdaInvoker reaches the Lambda function that target, a bff: value of
// the form lambda://FUNCTION[:QUALIFIER], names, in the events of the BFFs'
// Lambda runtime: the two adapters meet here, neither imports the other.
// Region, credentials and endpoint (AWS_ENDPOINT_URL_LAMBDA for a local
// emulator) come from the AWS SDK's standard configuration.
func lambdaInvoker(target string) (invoke.Invoker, error) {
	return awssdk.New(context.Background(), target, lambdacodec.InvokeCodec{}, awssdk.Options{})
}

var _ awssdk.Codec = lambdacodec.InvokeCodec{}

// lambdaBuild is what collage build packages for Lambda.
type lambdaBuild struct {
	root, out, arch string
	display         string // out as the user wrote it
	staged          string // where the zips and template wait for the bundles' build
	res             *buildlambda.Result
	shell           *shellBuild // nil without a collage.yaml
}

// shellBuild is the shell's function, waiting for the bundles it serves.
type shellBuild struct {
	bootstrap string // built before the bundles
	cfg       *yaml.Config
	fn        buildlambda.Function // once zipped
}

// packageLambdas builds every BFF that has a main package under
// bff/NAME/cmd/bootstrap, for a frontend under frontends/ or in
// ROOT/collage.yaml, and the shell's bootstrap when there is a
// collage.yaml, into a staging folder beside out. It runs before the
// bundles' build, so that a failure leaves out as it was; install zips the
// shell with the bundles and moves the result into out once they are
// built. It returns nil when there is nothing to package.
func packageLambdas(ctx context.Context, root, cfgPath, out, arch string, progress io.Writer) (*lambdaBuild, error) {
	names := map[string]bool{}
	frontends, _ := build.Discover(root, "frontends") // the bundles' build reports these errors
	for _, f := range frontends {
		names[f.Name] = true
	}
	settings := map[string]map[string]string{}
	var cfg *yaml.Config
	if _, err := os.Stat(cfgPath); err == nil {
		if cfg, err = yaml.Load(cfgPath); err != nil {
			return nil, err
		}
		for name, f := range cfg.Frontends {
			names[name] = true
			settings[name] = f.Settings
		}
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	bffs := buildlambda.Discover(root, list)
	if len(bffs) == 0 && cfg == nil {
		return nil, nil
	}
	var shell *buildlambda.Shell
	if cfg != nil {
		shell = &buildlambda.Shell{}
		for _, b := range bffs {
			if strings.HasPrefix(cfg.Frontends[b.Name].BFF, "lambda://") {
				shell.Lambda = append(shell.Lambda, b.Name)
			}
		}
	}
	for i := range bffs {
		bffs[i].Settings = settings[bffs[i].Name]
	}
	display := out
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	staged, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".lambda-")
	if err != nil {
		return nil, err
	}
	total := len(bffs)
	if cfg != nil {
		total++
	}
	fmt.Fprintf(progress, "lambda: building %d bootstrap(s) for linux/%s with go build (about 30s on a cold cache)…\n", total, arch)
	var mu sync.Mutex
	done := 0
	tell := func(name string, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		done++
		fmt.Fprintf(progress, "lambda:   %s built in %s (%d/%d)\n", name, took.Round(100*time.Millisecond), done, total)
	}
	res, err := buildlambda.Package(ctx, buildlambda.Options{Root: root, Out: staged, Arch: arch, BFFs: bffs, Shell: shell, Progress: tell})
	if err != nil {
		os.RemoveAll(staged)
		return nil, err
	}
	lb := &lambdaBuild{root: root, out: out, display: display, arch: arch, staged: staged, res: res}
	if cfg != nil {
		if _, err := shellLayouts(cfg); err != nil {
			os.RemoveAll(staged)
			return nil, err
		}
		bin := filepath.Join(staged, ".shell", "bootstrap")
		began := time.Now()
		// The project's main package is the collage command with the
		// project's BFFs linked in, which serves the shell when Lambda
		// runs it.
		if err := buildlambda.BuildBootstrap(ctx, "go", cfg.Dir, cfg.Main, "linux", arch, bin); err != nil {
			os.RemoveAll(staged)
			return nil, fmt.Errorf("the shell's bootstrap: %w", err)
		}
		tell("the shell ("+cfg.Main+")", time.Since(began))
		lb.shell = &shellBuild{bootstrap: bin, cfg: cfg}
	}
	return lb, nil
}

// shellLayouts is the layouts folder of cfg relative to its collage.yaml,
// which must hold it: the shell's zip keeps the two as they are placed.
func shellLayouts(cfg *yaml.Config) (string, error) {
	dir := cfg.Layouts
	if filepath.IsAbs(dir) {
		rel, err := filepath.Rel(cfg.Dir, dir)
		if err != nil {
			return "", fmt.Errorf("%s: layouts %s: %w", cfg.File, dir, err)
		}
		dir = rel
	}
	if !filepath.IsLocal(dir) {
		return "", fmt.Errorf("%s: layouts %s is outside the folder of %s, so the shell's Lambda package cannot hold it: move it inside", cfg.File, cfg.Layouts, filepath.Base(cfg.File))
	}
	return filepath.Clean(dir), nil
}

// install puts each frontend's server bundle, if it has one, in its BFF's
// zip (the BFF renders its own component inside Lambda), zips the shell
// with the built bundles, and moves the packages into the output folder.
func (l *lambdaBuild) install(res *build.Result) error {
	defer os.RemoveAll(l.staged)
	for i, fn := range l.res.Functions {
		m := res.Manifests[fn.Name]
		if m == nil || m.Server == "" {
			continue
		}
		dir := filepath.Join(l.out, "assets", fn.Name, m.Version)
		smap := filepath.Join(dir, m.Server+".map")
		if _, err := os.Stat(smap); err != nil {
			smap = ""
		}
		var err error
		if l.res.Functions[i], err = buildlambda.AddServerBundle(fn, filepath.Join(dir, m.Server), smap); err != nil {
			return err
		}
	}
	if l.shell != nil {
		files, err := l.shellFiles()
		if err != nil {
			return err
		}
		zip := filepath.Join(l.staged, buildlambda.Dir, buildlambda.ShellName+".zip")
		if l.shell.fn, err = buildlambda.ZipShell(zip, l.shell.bootstrap, files); err != nil {
			return err
		}
	}
	return buildlambda.Install(l.staged, l.out)
}

// shellFiles are what the shell serves from its zip: collage.yaml, its
// layouts, and the bundles' index and assets as dist/, without source
// maps, which the shell does not serve.
func (l *lambdaBuild) shellFiles() ([]buildlambda.ShellFile, error) {
	cfg := l.shell.cfg
	layouts, err := shellLayouts(cfg)
	if err != nil {
		return nil, err
	}
	files := []buildlambda.ShellFile{{Name: "collage.yaml", Path: cfg.File}}
	more, err := buildlambda.DirFiles(filepath.Join(cfg.Dir, layouts), filepath.ToSlash(layouts), nil)
	if err != nil {
		return nil, err
	}
	files = append(files, more...)
	if _, err := os.Stat(filepath.Join(l.out, build.IndexFile)); err == nil {
		files = append(files, buildlambda.ShellFile{Name: "dist/" + build.IndexFile, Path: filepath.Join(l.out, build.IndexFile)})
		assets, err := buildlambda.DirFiles(filepath.Join(l.out, "assets"), "dist/assets", isCompressedCopy)
		if err != nil {
			return nil, err
		}
		files = append(files, assets...)
	}
	return files, nil
}

// isCompressedCopy says whether name is a compressed copy collage build
// wrote beside a file. The shell imports the build as published versions,
// every file its manifest names (source maps too, served only with
// --source-maps), and compresses them itself.
func isCompressedCopy(name string) bool {
	return strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz")
}

// discard removes what was packaged, after the bundles' build failed.
func (l *lambdaBuild) discard() { os.RemoveAll(l.staged) }

// printLambdaSizes prints each function's bootstrap and zip sizes.
func printLambdaSizes(w io.Writer, l *lambdaBuild) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "lambda (%s)\tbootstrap\tzip\t\n", l.arch)
	fns := l.res.Functions
	if l.shell != nil {
		fns = append(fns, l.shell.fn)
	}
	for _, f := range fns {
		zip := filepath.Join(l.display, buildlambda.Dir, f.Name+".zip")
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", zip, mb(f.BootstrapBytes), mb(f.ZipBytes))
	}
	tw.Flush()
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
