package quickjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/component"
	qjs "modernc.org/quickjs"
)

// Config says what a Pool renders and with how many VMs.
type Config struct {
	// Frontend names the frontend in errors and log lines.
	Frontend string
	// Source is the server bundle: a script that defines the global
	// function component.RenderFunc.
	Source []byte
	// SourceMap is the server bundle's source map, which turns the stack
	// of an error into the frontend's files and lines.
	// Optional. Default: none, stacks name the bundle's positions.
	SourceMap []byte
	// VMs is the size of the pool. Optional. Default: runtime.GOMAXPROCS(0).
	VMs int
	// Timeout bounds a render whose context has no deadline.
	// Optional. Default: DefaultTimeout.
	Timeout time.Duration
	// MemoryLimit bounds each VM's heap, in bytes. Optional. Default:
	// DefaultMemoryLimit.
	MemoryLimit uintptr
	// Log receives what the component writes with console.*.
	// Optional. Default: slog.Default().
	Log *slog.Logger
}

// Defaults of Config.
const (
	DefaultTimeout     = time.Second
	DefaultMemoryLimit = 64 << 20
)

// Pool renders one server bundle with a fixed set of VMs. It implements
// component.Renderer and is safe for concurrent use.
type Pool struct {
	cfg     Config
	prelude []byte // bytecode of the browser-like globals
	code    []byte // bytecode of the server bundle
	smap    *component.SourceMap
	vms     chan *vm
	live    atomic.Int32 // VMs made and not closed: what Close waits for
}

// vm is one engine, loaded with the globals and the server bundle.
type vm struct {
	m      *qjs.VM
	global qjs.Value
	render qjs.Value
	loaded bool // global and render hold values to free
}

// New compiles cfg.Source once and loads the pool's VMs from the bytecode.
// An error names what in the bundle failed, such as a syntax error or a
// throw while the bundle runs.
func New(cfg Config) (*Pool, error) {
	if cfg.VMs <= 0 {
		cfg.VMs = runtime.GOMAXPROCS(0)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p := &Pool{cfg: cfg, vms: make(chan *vm, cfg.VMs)}
	if len(cfg.SourceMap) > 0 {
		m, err := component.ParseSourceMap(cfg.SourceMap)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Frontend, err)
		}
		p.smap = m
	}
	c, err := qjs.NewVM()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if p.prelude, err = c.Compile(prelude, qjs.EvalGlobal); err != nil {
		return nil, fmt.Errorf("%s: the engine's globals: %w", cfg.Frontend, err)
	}
	if p.code, err = c.Compile(string(cfg.Source), qjs.EvalGlobal); err != nil {
		return nil, fmt.Errorf("%s: server bundle: %w", cfg.Frontend, p.fail(err, nil))
	}
	for range cfg.VMs {
		v, err := p.load()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.live.Add(1)
		p.vms <- v
	}
	return p, nil
}

// load makes a VM with the globals and the server bundle.
func (p *Pool) load() (*vm, error) {
	m, err := qjs.NewVM()
	if err != nil {
		return nil, err
	}
	m.SetMemoryLimit(p.cfg.MemoryLimit)
	m.SetEvalTimeout(p.cfg.Timeout) // a bundle that loops while it loads
	v := &vm{m: m}
	if err := p.setUp(v); err != nil {
		v.close()
		return nil, fmt.Errorf("%s: server bundle: %w", p.cfg.Frontend, err)
	}
	return v, nil
}

func (p *Pool) setUp(v *vm) error {
	log := p.cfg.Log.With("frontend", p.cfg.Frontend)
	if err := v.m.RegisterFunc("__collageLog", func(level, msg string) {
		switch level {
		case "error":
			log.Error("component: "+msg, "console", level)
		case "warn":
			log.Warn("component: "+msg, "console", level)
		default:
			log.Info("component: "+msg, "console", level)
		}
	}, false); err != nil {
		return err
	}
	if _, err := v.m.EvalBytecode(p.prelude); err != nil {
		return err
	}
	if _, err := v.m.EvalBytecode(p.code); err != nil {
		return p.fail(err, nil)
	}
	if kind, _ := v.m.Eval("typeof "+component.RenderFunc, qjs.EvalGlobal); kind != "function" {
		return fmt.Errorf("it defines no function %s: build it with collage build", component.RenderFunc)
	}
	at, err := v.m.NewAtom(component.RenderFunc)
	if err != nil {
		return err
	}
	global := v.m.GlobalObject()
	render, err := global.GetPropertyValue(at)
	if err != nil {
		global.Free()
		return err
	}
	v.global, v.render, v.loaded = global, render, true
	return nil
}

func (v *vm) close() {
	if v.loaded {
		v.render.Free()
		v.global.Free()
	}
	v.m.Close()
}

// errClosed is the error of a render on a closed pool.
var errClosed = errors.New("quickjs: the pool is closed")

// Render renders the component with data, a JSON value, within ctx's
// deadline, or the pool's Timeout when ctx has none.
func (p *Pool) Render(ctx context.Context, data []byte) ([]byte, error) {
	var v *vm
	select {
	case v = <-p.vms:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if v == nil {
		p.vms <- nil // tell the next one too
		return nil, errClosed
	}
	html, err, fresh := p.renderOn(ctx, v, data)
	if !fresh {
		p.vms <- v
		return html, err
	}
	// The VM was stopped where it stood: start again from the bytecode.
	v.close()
	nv, lerr := p.load()
	if lerr != nil {
		p.cfg.Log.Error("quickjs: a VM could not be made again; the pool is one smaller", "frontend", p.cfg.Frontend, "err", lerr)
		p.live.Add(-1)
		return html, err
	}
	p.vms <- nv
	return html, err
}

// renderOn renders on v, and reports whether v must be replaced.
func (p *Pool) renderOn(ctx context.Context, v *vm, data []byte) (html []byte, err error, replace bool) {
	timeout := p.cfg.Timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded, false
	}
	v.m.SetEvalTimeout(timeout)
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		v.m.Interrupt()
		close(interrupted)
	})
	defer func() {
		if !stop() && ctx.Err() != nil {
			<-interrupted // the interrupt is in: the next render must not see it
		}
		if r := recover(); r != nil {
			html, err, replace = nil, &component.Error{Frontend: p.cfg.Frontend, Message: fmt.Sprint("the engine panicked: ", r)}, true
		}
	}()
	out, err := v.render.Call(v.global, string(data))
	if err != nil {
		e := p.fail(err, ctx)
		return nil, e, e.Interrupted
	}
	s, ok := out.(string)
	if !ok {
		return nil, &component.Error{Frontend: p.cfg.Frontend, Message: fmt.Sprintf("%s returned %T, not a string", component.RenderFunc, out)}, false
	}
	return []byte(s), nil, false
}

// fail turns an engine's error into a *component.Error with the stack
// mapped to the frontend's sources.
func (p *Pool) fail(err error, ctx context.Context) *component.Error {
	e := &component.Error{Frontend: p.cfg.Frontend, Message: err.Error()}
	var qe *qjs.Error
	if !errors.As(err, &qe) {
		return e
	}
	e.Stack = p.smap.Stack(qe.Stack)
	if qe.Name == "InternalError" && qe.Message == "interrupted" {
		e.Interrupted = true
		e.Message = "interrupted: the render ran past its deadline"
		e.Cause = context.DeadlineExceeded
		if ctx != nil && ctx.Err() != nil {
			e.Cause = ctx.Err()
		}
		return e
	}
	if m := undefinedRE.FindStringSubmatch(qe.Message); qe.Name == "ReferenceError" && m != nil && browserOnly[m[1]] {
		e.Message += fmt.Sprintf(": %s is a browser API, which a server render does not have; use it in mount or in an effect (useEffect), which run only in the browser", m[1])
	}
	return e
}

// Close closes the VMs, waiting for the renders running to end. Renders
// after Close fail.
func (p *Pool) Close() error {
	for range p.live.Load() {
		if v := <-p.vms; v != nil {
			v.close()
		}
	}
	p.vms <- nil
	return nil
}

var undefinedRE = regexp.MustCompile(`^'([A-Za-z_$][\w$]*)' is not defined$`)

// browserOnly are the browser globals a component may reach for, which
// the engine has not: their ReferenceError says where to use them.
var browserOnly = map[string]bool{
	"window": true, "document": true, "navigator": true, "location": true, "history": true,
	"localStorage": true, "sessionStorage": true, "indexedDB": true, "fetch": true,
	"XMLHttpRequest": true, "WebSocket": true, "EventSource": true, "HTMLElement": true,
	"customElements": true, "requestAnimationFrame": true, "cancelAnimationFrame": true,
	"matchMedia": true, "getComputedStyle": true, "IntersectionObserver": true,
	"ResizeObserver": true, "MutationObserver": true, "Event": true, "CustomEvent": true,
	"Intl": true, "URL": true, "URLSearchParams": true, "TextEncoder": true, "TextDecoder": true,
	"structuredClone": true, "performance": true, "crypto": true, "atob": true, "btoa": true,
	"Blob": true, "FormData": true, "Headers": true, "Request": true, "Response": true,
}

// prelude gives the server bundle the browser-like globals components
// commonly touch while they render: console, whose lines reach the log,
// and timers, which never fire (a server render is over before any would).
const prelude = `(function (g) {
  var log = g.__collageLog;
  delete g.__collageLog;
  function text(args) {
    return Array.prototype.map.call(args, function (a) {
      if (typeof a === "string") return a;
      if (a instanceof Error) return String(a);
      try { return JSON.stringify(a); } catch (e) { return String(a); }
    }).join(" ");
  }
  function logger(level) { return function () { log(level, text(arguments)); }; }
  g.console = { log: logger("info"), info: logger("info"), debug: logger("debug"), warn: logger("warn"), error: logger("error") };
  var timers = 0;
  g.setTimeout = g.setInterval = function () { return ++timers; };
  g.clearTimeout = g.clearInterval = function () {};
  g.queueMicrotask = function (f) { Promise.resolve().then(f); };
})(globalThis);
`

var _ component.Renderer = (*Pool)(nil)
