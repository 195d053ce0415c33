package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/cli/bffserve"
	"github.com/collage-dev/collage/shell/dev"
	"github.com/collage-dev/collage/shell/invoke"
)

// goSide is the Go side of collage dev: the project's main package, built
// and run as a child process that serves the BFFs linked into it (collage
// bffs). When the project's Go code changes it builds the package again,
// starts the new child, and sends the BFFs' calls to it once it listens:
// the pages' event streams and the frontends' builds stay with the parent,
// and the pages reload by themselves. A build that fails goes to the
// overlay, and the child that last started keeps serving.
type goSide struct {
	dir  string   // the project's folder, where go build runs
	main string   // the main package, relative to dir
	args []string // the child's flags, after the command's name
	bins string   // the folder of the binaries built
	hub  *dev.Hub
	out  io.Writer // the terminal
	// logs receives the child's log lines, so that the hub sees the BFFs'
	// panics.
	logs slog.Handler

	cur  atomic.Pointer[goChild]
	kick chan struct{}
	n    int // binaries built
}

// goChild is one run of the project's binary.
type goChild struct {
	bin, url string
	cmd      *exec.Cmd
	exited   chan struct{} // closed once the process is gone
	mu       sync.Mutex
	invokers map[string]invoke.Invoker
}

// goSideFor is the Go side of the project of cfg, or nil when it has none
// to run: no frontend with bff: local, or no Go module around the project.
// sets are dev's --set flags, for the child.
func goSideFor(cfg *yaml.Config, sets settingFlags, hub *dev.Hub, out io.Writer) (*goSide, error) {
	local := false
	for _, f := range cfg.Frontends {
		local = local || f.BFF == "local"
	}
	if !local || !inGoModule(cfg.Dir) {
		return nil, nil
	}
	bins := filepath.Join(cfg.Dir, devOut, "go")
	if err := os.MkdirAll(bins, 0o755); err != nil {
		return nil, err
	}
	// Binaries of an earlier run.
	old, _ := filepath.Glob(filepath.Join(bins, "bffs-*"))
	for _, f := range old {
		os.Remove(f)
	}
	args := []string{"--config", cfg.File, "--exit-with-stdin"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return &goSide{dir: cfg.Dir, main: cfg.Main, args: args, bins: bins, hub: hub, out: out,
		logs: hub.LogHandler(slog.Default().Handler()), kick: make(chan struct{}, 1)}, nil
}

// inGoModule reports whether dir or a folder above it holds a go.mod.
func inGoModule(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return true
		}
		up := filepath.Dir(dir)
		if up == dir {
			return false
		}
		dir = up
	}
}

// Changed asks for a new build and run, without waiting for it.
func (g *goSide) Changed() {
	select {
	case g.kick <- struct{}{}:
	default: // one is asked for already
	}
}

// run builds and starts the Go side again each time Changed asks, until
// ctx is done; then it stops the child.
func (g *goSide) run(ctx context.Context) {
	defer func() {
		if c := g.cur.Swap(nil); c != nil {
			c.stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.kick:
			g.restart(ctx, true)
		}
	}
}

// restart builds the main package and starts it; once it listens, it
// takes the BFFs' calls from the child before it, which stops. With
// reload, the pages reload then.
func (g *goSide) restart(ctx context.Context, reload bool) {
	start := time.Now()
	g.n++
	bin := filepath.Join(g.bins, fmt.Sprintf("bffs-%d", g.n))
	target, args := g.main, append([]string{"bffs"}, g.args...)
	// A main package of the BFFs alone links several times faster than
	// the project's whole command; when the project's does not list its
	// BFFs plainly, or says something wrong, the go build of it says what.
	if src, err := childMain(filepath.Join(g.dir, g.main)); err == nil && src != nil {
		gen, err := filepath.Abs(filepath.Join(g.bins, "child", "main.go"))
		if err == nil {
			err = os.MkdirAll(filepath.Dir(gen), 0o755)
		}
		if err == nil {
			err = os.WriteFile(gen, src, 0o644)
		}
		if err == nil {
			target, args = gen, g.args
		}
	}
	what := g.main
	if target != g.main {
		what = "the BFFs " + g.main + " links"
	}
	fmt.Fprintf(g.out, "collage: building the Go side (%s)…\n", what)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, target)
	build.Dir = g.dir
	build.Env = goEnv(os.Environ())
	output, err := build.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		g.hub.Problem(dev.GoProblem(g.dir, string(output)))
		fmt.Fprintf(g.out, "collage: the Go side does not build; the BFFs that last started are served:\n%s\n", indent(string(output)))
		return
	}
	built := time.Since(start)
	c, err := g.start(ctx, bin, args)
	if err != nil {
		os.Remove(bin)
		if ctx.Err() != nil {
			return
		}
		g.hub.Problem(dev.Problem{Source: dev.SourceGo, Message: err.Error()})
		fmt.Fprintf(g.out, "collage: the Go side does not start; the BFFs that last started are served:\n%s\n", indent(err.Error()))
		return
	}
	if old := g.cur.Swap(c); old != nil {
		old.stop()
	}
	g.hub.Clear(dev.SourceGo, "", "")
	if reload {
		g.hub.Reload()
		fmt.Fprintf(g.out, "collage: Go side built in %s, serving %s after the edit; the pages reload\n", built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Fprintf(g.out, "collage: Go side built and serving in %s\n", time.Since(start).Round(time.Millisecond))
	}
}

// goEnv is environ for the go command, which builds with this binary's
// toolchain at least: the project's go.mod may want a newer Go than the
// one installed, which a GOTOOLCHAIN of local (or none) would refuse.
func goEnv(environ []string) []string {
	v := runtime.Version()
	if !strings.HasPrefix(v, "go1.") {
		return environ // a development build of Go
	}
	for _, kv := range environ {
		if t, ok := strings.CutPrefix(kv, "GOTOOLCHAIN="); ok && t != "" && t != "local" {
			return environ
		}
	}
	return append(environ, "GOTOOLCHAIN="+v+"+auto")
}

// childTimeout bounds how long a child may take to listen.
const childTimeout = 30 * time.Second

// start runs bin and waits until it listens.
func (g *goSide) start(ctx context.Context, bin string, args []string) (*goChild, error) {
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe() // the child stops when it ends
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &goChild{bin: bin, cmd: cmd, exited: make(chan struct{}), invokers: map[string]invoke.Invoker{}}
	var tail lastLines // of stderr, to say why a child exits
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		g.copyLogs(stderr, &tail)
	}()
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), bffserve.Listening); ok {
				select {
				case url <- u:
				default:
				}
				continue
			}
			fmt.Fprintln(g.out, sc.Text())
		}
	}()
	go func() {
		<-logged // Wait closes the pipes: read them to the end first
		cmd.Wait()
		stdin.Close()
		close(c.exited)
		// On Ctrl-C the terminal interrupts the child too: no news then.
		if g.cur.CompareAndSwap(c, nil) && ctx.Err() == nil {
			msg := "the BFFs' process exited"
			if t := tail.String(); t != "" {
				msg += ":\n" + t
			}
			g.hub.Problem(dev.Problem{Source: dev.SourceGo, Message: msg})
			fmt.Fprintf(g.out, "collage: %s\n", msg)
		}
		os.Remove(bin)
	}()
	select {
	case c.url = <-url:
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s exited before it listened:\n%s", filepath.Base(g.main), tail.String())
	case <-time.After(childTimeout):
	case <-ctx.Done():
	}
	c.stop()
	return nil, fmt.Errorf("%s did not listen within %s", filepath.Base(g.main), childTimeout)
}

// stop ends the child: an interrupt tells it to finish the requests in
// flight; it is killed if it has not after a while.
func (c *goChild) stop() {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// invoker is the invoker of the BFF called name in the child.
func (c *goChild) invoker(name string) (invoke.Invoker, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if inv, ok := c.invokers[name]; ok {
		return inv, nil
	}
	inv, err := invoke.HTTP(c.url+"/"+name, invoke.HTTPOptions{})
	if err != nil {
		return nil, err
	}
	c.invokers[name] = inv
	return inv, nil
}

// invoker reaches the BFF called name in whichever child serves.
func (g *goSide) invoker(name string) invoke.Invoker { return &goInvoker{g: g, name: name} }

type goInvoker struct {
	g    *goSide
	name string
}

var errNoGoSide = errors.New("the project's BFFs are not running: their Go code did not build or start (see the overlay)")

func (i *goInvoker) current() (invoke.Invoker, error) {
	c := i.g.cur.Load()
	if c == nil {
		return nil, errNoGoSide
	}
	return c.invoker(i.name)
}

func (i *goInvoker) RoundTrip(r *http.Request) (*http.Response, error) {
	inv, err := i.current()
	if err != nil {
		return nil, err
	}
	return inv.RoundTrip(r)
}

// FetchFragment takes the invoker's path for fragments when it has one.
func (i *goInvoker) FetchFragment(ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, bool, error) {
	inv, err := i.current()
	if err != nil {
		return bff.FragmentAnswer{}, false, err
	}
	if ff, ok := inv.(invoke.FragmentFetcher); ok {
		return ff.FetchFragment(ctx, call)
	}
	return bff.FragmentAnswer{}, false, nil
}

// copyLogs reads the child's log lines: each JSON line is a record for
// g.logs, any other line goes to the terminal as it is. The last lines
// are kept in tail.
func (g *goSide) copyLogs(r io.Reader, tail *lastLines) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20) // a stack is long
	for sc.Scan() {
		line := sc.Bytes()
		tail.add(string(line))
		rec, ok := parseLogLine(line)
		if !ok {
			fmt.Fprintln(g.out, string(line))
			continue
		}
		if g.logs.Enabled(context.Background(), rec.Level) {
			g.logs.Handle(context.Background(), rec)
		}
	}
}

// parseLogLine reads a line of slog's JSON handler back into a record.
func parseLogLine(line []byte) (slog.Record, bool) {
	if len(line) == 0 || line[0] != '{' {
		return slog.Record{}, false
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return slog.Record{}, false
	}
	msg, ok := m[slog.MessageKey].(string)
	if !ok {
		return slog.Record{}, false
	}
	var level slog.Level
	if s, ok := m[slog.LevelKey].(string); ok {
		level.UnmarshalText([]byte(s))
	}
	at := time.Now()
	if s, ok := m[slog.TimeKey].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			at = t
		}
	}
	rec := slog.NewRecord(at, level, msg, 0)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch k {
		case slog.MessageKey, slog.LevelKey, slog.TimeKey:
			continue
		}
		if s, ok := m[k].(string); ok {
			rec.AddAttrs(slog.String(k, s))
		} else {
			rec.AddAttrs(slog.Any(k, m[k]))
		}
	}
	return rec, true
}

// lastLines keeps the last lines written to it.
type lastLines struct {
	mu    sync.Mutex
	lines []string
}

const keptLines = 20

func (l *lastLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > keptLines {
		l.lines = l.lines[len(l.lines)-keptLines:]
	}
}

func (l *lastLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// indent indents every line of s by two spaces.
func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
