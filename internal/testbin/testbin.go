// Package testbin runs the collage binary as a child process, for the
// tests that drive it as users do (tests/publish, tests/replicas,
// tests/hostile). A test package's TestMain calls Demo.Main, which builds
// the binary, the demo project of this repository and the archive of its
// recs once; its tests then start `collage serve` (Demo.Serve, or Start
// for a command of their own), run the command line against it
// (Demo.Run), publish releases of recs made from that archive
// (Demo.NewRelease), and read the pages it serves (Versions,
// PageImportMap). It uses the standard library and this module's core
// packages only.
package testbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

// A Demo is the collage binary and the demo project of this repository,
// built by Main for the tests of one package.
type Demo struct {
	Bin  string // the collage binary
	Root string // the repository: the demo project
	Dist string // the demo, built by collage build

	// recs is the release of recs as collage pack builds it, and
	// recsFiles are its files: what NewRelease starts from.
	recs      *registry.Release
	recsFiles fs.FS
}

// Main builds the collage binary, the demo and the archive of recs into
// a temporary folder, runs m, removes the folder, and returns the exit
// status for os.Exit. pkg names the test package in messages. Without
// node_modules it builds and runs nothing: see Skip.
func (d *Demo) Main(m *testing.M, pkg string) int {
	var err error
	if d.Root, err = root(); err != nil {
		fmt.Println(err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(d.Root, "node_modules", "preact")); err != nil {
		return Skip(pkg + ": node_modules is missing; run `npm ci` (the README's test command does)")
	}
	dir, err := os.MkdirTemp("", "collage-test-")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer os.RemoveAll(dir)
	if d.Bin, err = Build(dir); err != nil {
		fmt.Println(err)
		return 1
	}
	d.Dist = filepath.Join(dir, "dist")
	archive := filepath.Join(dir, "recs.tar.gz")
	for _, c := range []*exec.Cmd{
		exec.Command(d.Bin, "build", "--out", d.Dist, "--lambda=false"),
		exec.Command(d.Bin, "pack", "frontends/recs", "--out", archive),
	} {
		c.Dir = d.Root
		if out, err := c.CombinedOutput(); err != nil {
			fmt.Printf("%s: %v\n%s", strings.Join(c.Args, " "), err, out)
			return 1
		}
	}
	f, err := os.Open(archive)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	d.recs, d.recsFiles, err = registry.ReadArchive(f, registry.ArchiveLimits{})
	f.Close()
	if err != nil {
		fmt.Printf("reading the archive of recs: %v\n", err)
		return 1
	}
	return m.Run()
}

// Skip prints why a test package cannot run, and returns the exit status
// for its TestMain: 0, the tests skipped, when run by hand; 1 under CI
// (CI=true), which always has what the tests need.
func Skip(msg string) int {
	if os.Getenv("CI") == "true" {
		fmt.Println("FAILING (CI=true) " + msg)
		return 1
	}
	fmt.Println("SKIPPING " + msg)
	return 0
}

// root returns the repository's folder: the nearest one, from the
// working folder up, that holds a go.mod.
func root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod in the working folder or above it")
		}
		dir = up
	}
}

// Build builds the demo shop's collage binary (cmd/shop, the command with
// the shop's BFFs linked in) into dir, and returns its path.
func Build(dir string) (string, error) {
	repo, err := root()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "collage")
	c := exec.Command("go", "build", "-o", bin, "./cmd/shop")
	c.Dir = repo
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building collage: %v\n%s", err, out)
	}
	return bin, nil
}

// Env is this process's environment without the variables of collage's
// command line, which each command is given explicitly.
func Env() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "COLLAGE_") })
}

// Command is the command line of d with args, in the repository, against
// the shell at url with token: COLLAGE_SHELL and COLLAGE_TOKEN, and no
// other COLLAGE_ variable of this process. It is killed when ctx is done.
func (d *Demo) Command(ctx context.Context, url, token string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, d.Bin, args...)
	c.Dir = d.Root
	c.Env = append(Env(), "COLLAGE_SHELL="+url, "COLLAGE_TOKEN="+token)
	return c
}

// Run runs the command line of d against the shell at url with token, as
// Command does, for 2 minutes at most, and returns its output and exit
// status. It fails the test when the command cannot run.
func (d *Demo) Run(t testing.TB, url, token string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := d.Command(ctx, url, token, args...)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("collage %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}
