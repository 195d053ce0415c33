package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

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
}

// packageLambdas builds every BFF that has a main package under
// bff/NAME/cmd/bootstrap, for a frontend under frontends/ or in
// ROOT/collage.yaml, into a staging folder beside out. It runs before the
// bundles' build, so that a failure leaves out as it was; install moves the
// result into out once the bundles are built. It returns nil when there is
// no BFF to package.
func packageLambdas(ctx context.Context, root, out, arch string) (*lambdaBuild, error) {
	names := map[string]bool{}
	frontends, _ := build.Discover(root, "frontends") // the bundles' build reports these errors
	for _, f := range frontends {
		names[f.Name] = true
	}
	settings := map[string]map[string]string{}
	cfgPath := filepath.Join(root, "collage.yaml")
	if _, err := os.Stat(cfgPath); err == nil {
		cfg, err := yaml.Load(cfgPath)
		if err != nil {
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
	if len(bffs) == 0 {
		return nil, nil
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
	res, err := buildlambda.Package(ctx, buildlambda.Options{Root: root, Out: staged, Arch: arch, BFFs: bffs})
	if err != nil {
		os.RemoveAll(staged)
		return nil, err
	}
	return &lambdaBuild{root: root, out: out, display: display, arch: arch, staged: staged, res: res}, nil
}

// install moves the packaged BFFs into the output folder.
func (l *lambdaBuild) install() error {
	defer os.RemoveAll(l.staged)
	return buildlambda.Install(l.staged, l.out)
}

// discard removes what was packaged, after the bundles' build failed.
func (l *lambdaBuild) discard() { os.RemoveAll(l.staged) }

// printLambdaSizes prints each BFF's bootstrap and zip sizes.
func printLambdaSizes(w io.Writer, l *lambdaBuild) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "lambda (%s)\tbootstrap\tzip\t\n", l.arch)
	for _, f := range l.res.Functions {
		zip := filepath.Join(l.display, buildlambda.Dir, f.Name+".zip")
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", zip, mb(f.BootstrapBytes), mb(f.ZipBytes))
	}
	tw.Flush()
}

func mb(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
