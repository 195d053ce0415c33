// Package cli is the collage command: its subcommands, flags and wiring.
// A project's own main package links its BFFs into it:
//
//	func main() {
//		cli.Run(cli.BFFs{
//			"cart": cart.New,
//		})
//	}
//
// and is then the project's collage binary (go run . dev). The command
// github.com/collage-dev/collage/cmd/collage links no BFF: it builds,
// publishes, and serves frontends whose BFFs run elsewhere, and its dev
// runs the project's own main package for the BFFs.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/collage-dev/collage/bff"
)

const usage = `collage builds, composes, hosts and ships micro-frontends.

Usage:
  collage new     DIR [--module PATH] [--frontend hello] [--collage CHECKOUT]
  collage add     NAME
  collage dev     [--addr 127.0.0.1:3000] [--set frontend.key=value] [--upstream URL --only NAME[,NAME]]
  collage build   [--out dist] [--minify=true] [--lambda=true] [--lambda-arch arm64|amd64]
  collage serve   [--data .collage/data] [--redis URL] [--dist dist] [--addr 127.0.0.1:3000]
  collage lambda-shell [--dist dist]   (the default inside Lambda)
  collage pack    frontends/NAME [--out FILE] [--label L] [--bff TARGET] | --shared
  collage publish frontends/NAME [--promote] [--expect V] [--label L] [--bff TARGET]
  collage versions NAME [--json]
  collage promote NAME VERSION [--expect V] [--canary PERCENT]
  collage rollback NAME [--to VERSION] [--expect V]
  collage rollback --all --to TIME   (RFC 3339, or how long ago: 15m)
  collage preview NAME VERSION [--for 1h] [--path /]
  collage yank    NAME VERSION
  collage history [NAME] [--since REV] [--json]
  collage token   create --frontend NAME[,NAME] --can publish,promote [--expires 720h] [--name N]
  collage token   list [--json] | revoke ID
  collage version

The commands that read a project (add to publish) take --root DIR (default .)
or --config FILE (default ROOT/collage.yaml): either names the project.

The commands from publish on call the shell at --shell URL (or COLLAGE_SHELL;
default http://127.0.0.1:3000) with the token --token (or COLLAGE_TOKEN).

Run "collage COMMAND --help" for a command's flags.
`

// BFFs are the BFFs linked into a collage binary, by frontend name: what
// a frontend whose bff: is local runs in the shell, in dev and on Lambda.
type BFFs map[string]bff.Factory

// Run runs the collage command that os.Args names, with bffs linked in,
// and exits with its status.
func Run(bffs BFFs) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, BFFs: bffs}
	args := os.Args[1:]
	if len(args) == 0 && os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// Lambda runs a function's bootstrap with no arguments.
		args = []string{"lambda-shell"}
	}
	if err := m.Run(ctx, args); err != nil {
		if !errors.Is(err, errReported) && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "collage:", err)
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

// errReported is returned when the command already printed why it failed.
var errReported = errors.New("failed")

// Main runs one collage command.
type Main struct {
	Stdout, Stderr io.Writer
	// Listening, if set, receives the base URL once a server listens.
	Listening chan<- string
	// BFFs are the BFFs linked into the binary.
	BFFs BFFs
}

// Run runs the command named by args[0] until it finishes or ctx is done.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errReported
	}
	switch args[0] {
	case "new":
		return m.newProject(ctx, args[1:])
	case "add":
		return m.add(args[1:])
	case "dev":
		return m.dev(ctx, args[1:])
	case "build":
		return m.build(args[1:])
	case "serve":
		return m.serve(ctx, args[1:])
	case "lambda-shell":
		return m.lambdaShell(ctx, args[1:])
	case "pack":
		return m.pack(args[1:])
	case "publish":
		return m.publish(ctx, args[1:])
	case "versions":
		return m.versions(ctx, args[1:])
	case "promote":
		return m.promote(ctx, args[1:])
	case "rollback":
		return m.rollback(ctx, args[1:])
	case "preview":
		return m.preview(ctx, args[1:])
	case "yank":
		return m.yank(ctx, args[1:])
	case "history":
		return m.history(ctx, args[1:])
	case "token":
		return m.token(ctx, args[1:])
	case "bffs":
		return m.bffs(ctx, args[1:])
	case "version", "--version":
		return m.version()
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "collage: unknown command %q\n\n%s", args[0], usage)
	return errReported
}

// flags returns a flag set whose --help prints the command's usage.
func (m *Main) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: collage %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}
