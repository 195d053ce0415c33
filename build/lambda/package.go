package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Architectures Lambda runs.
const (
	ARM64 = "arm64"
	AMD64 = "amd64"
)

// MainDir is where a BFF's main package lives, relative to the project
// root; %s is the BFF's name.
const MainDir = "frontends/%s/bff/cmd/bootstrap"

// SettingPrefix starts the environment variable of each BFF setting in the
// template; adapters/lambda reads them back under the same names.
const SettingPrefix = "COLLAGE_SETTING_"

// TemplateFile is the SAM template Package writes beside the zips' folder.
const TemplateFile = "template.yaml"

// Dir is the folder of the zips in the output folder.
const Dir = "lambda"

// BFF is one function to package.
type BFF struct {
	// Name is the frontend's name, the zip's name and the function's name.
	Name string
	// Main is the main package, as a path relative to the root ("./frontends/cart/bff/cmd/bootstrap").
	Main string
	// Settings become the function's environment, as SettingPrefix+key.
	Settings map[string]string
}

// Options say what to package and where.
type Options struct {
	// Root is the folder holding go.mod, where go build runs.
	// Optional. Default: ".".
	Root string
	// Out is the folder that receives Dir/NAME.zip and TemplateFile. It is
	// created if needed; other files in it are left alone.
	Out string
	// Arch is the Lambda architecture, ARM64 or AMD64. Optional. Default: ARM64.
	Arch string
	// BFFs are the functions to package.
	BFFs []BFF
	// Shell declares the shell's own function in the template, beside the
	// BFFs; its zip is made by ZipShell. Optional. Default: no shell.
	Shell *Shell
	// MemoryMB is each function's memory. Optional. Default: 256.
	MemoryMB int
	// Timeout is each function's timeout. Optional. Default: 10s.
	Timeout time.Duration
	// Go is the go command. Optional. Default: "go".
	Go string
	// Progress is told of each function packaged, from the goroutine
	// that packaged it, with how long it took. Optional. Default: none.
	Progress func(name string, took time.Duration)
}

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Arch == "" {
		o.Arch = ARM64
	}
	if o.MemoryMB == 0 {
		o.MemoryMB = 256
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Go == "" {
		o.Go = "go"
	}
	return o
}

// Function is one packaged BFF.
type Function struct {
	Name           string
	Zip            string // the zip's path
	ZipBytes       int64
	BootstrapBytes int64
}

// Result is what Package made.
type Result struct {
	Functions []Function // by name
	Template  string     // the template's path
	Took      time.Duration
}

// Error is a packaging failure, with a code and a message for people.
type Error struct {
	Code string // "bad_option", "bad_setting", "go_build", "io"
	BFF  string // the BFF at fault, if one is
	Msg  string
}

func (e *Error) Error() string {
	if e.BFF != "" {
		return "bff " + e.BFF + ": " + e.Msg
	}
	return e.Msg
}

// Discover returns a BFF for each name that has a main package at MainDir
// under root, in name order.
func Discover(root string, names []string) []BFF {
	var out []BFF
	for _, n := range names {
		dir := fmt.Sprintf(MainDir, n)
		if info, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir), "main.go")); err == nil && !info.IsDir() {
			out = append(out, BFF{Name: n, Main: "./" + dir})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	settingRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

// Package builds and zips every BFF of opts and writes the template. On
// an error it leaves opts.Out as it was.
func Package(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	if opts.Arch != ARM64 && opts.Arch != AMD64 {
		return nil, &Error{Code: "bad_option", Msg: fmt.Sprintf("architecture %q: use arm64 or amd64", opts.Arch)}
	}
	if opts.Out == "" {
		return nil, &Error{Code: "bad_option", Msg: "no output folder"}
	}
	for _, b := range opts.BFFs {
		if !nameRE.MatchString(b.Name) {
			return nil, &Error{Code: "bad_option", BFF: b.Name, Msg: "use lower-case letters, digits and dashes, starting with a letter"}
		}
		if b.Name == ShellName {
			return nil, &Error{Code: "bad_option", BFF: b.Name, Msg: "the name " + ShellName + " is the shell's own function: name the frontend otherwise"}
		}
		for k := range b.Settings {
			if !settingRE.MatchString(k) {
				return nil, &Error{Code: "bad_setting", BFF: b.Name, Msg: fmt.Sprintf(
					"setting %q cannot be a Lambda environment variable: use letters, digits and _", k)}
			}
		}
	}
	if err := opts.Shell.check(opts.BFFs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, &Error{Code: "io", Msg: err.Error()}
	}
	tmp, err := os.MkdirTemp(opts.Out, ".lambda-tmp-")
	if err != nil {
		return nil, &Error{Code: "io", Msg: err.Error()}
	}
	defer os.RemoveAll(tmp)

	res := &Result{Functions: make([]Function, len(opts.BFFs))}
	if err := os.Mkdir(filepath.Join(tmp, Dir), 0o755); err != nil {
		return nil, &Error{Code: "io", Msg: err.Error()}
	}
	// Two builds at a time: the go command uses every core for compiling,
	// and the links of the second overlap the first's.
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 2)
		errs = make([]error, len(opts.BFFs))
	)
	for i, b := range opts.BFFs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			began := time.Now()
			res.Functions[i], errs[i] = packageOne(ctx, opts, tmp, b)
			if errs[i] == nil && opts.Progress != nil {
				opts.Progress(b.Name, time.Since(began))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, TemplateFile), Template(opts), 0o644); err != nil {
		return nil, &Error{Code: "io", Msg: err.Error()}
	}
	if err := install(tmp, opts.Out); err != nil {
		return nil, &Error{Code: "io", Msg: err.Error()}
	}
	for i := range res.Functions {
		res.Functions[i].Zip = filepath.Join(opts.Out, Dir, res.Functions[i].Name+".zip")
	}
	res.Template = filepath.Join(opts.Out, TemplateFile)
	res.Took = time.Since(start)
	return res, nil
}

// Install moves the zips and template that Package wrote into staged to
// out, replacing the ones there. collage build packages into a staging
// folder before it builds the bundles, and installs after their build
// replaced out.
func Install(staged, out string) error {
	return install(staged, out)
}

func install(from, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old := filepath.Join(from, ".old")
	if err := os.Rename(filepath.Join(out, Dir), old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	defer os.RemoveAll(old)
	if err := os.Rename(filepath.Join(from, Dir), filepath.Join(out, Dir)); err != nil {
		return err
	}
	return os.Rename(filepath.Join(from, TemplateFile), filepath.Join(out, TemplateFile))
}

func packageOne(ctx context.Context, opts Options, tmp string, b BFF) (Function, error) {
	f := Function{Name: b.Name}
	bin := filepath.Join(tmp, "build", b.Name, "bootstrap")
	if err := BuildBootstrap(ctx, opts.Go, opts.Root, b.Main, "linux", opts.Arch, bin); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.BFF = b.Name
		}
		return f, err
	}
	info, err := os.Stat(bin)
	if err != nil {
		return f, &Error{Code: "io", BFF: b.Name, Msg: err.Error()}
	}
	f.BootstrapBytes = info.Size()
	zipPath := filepath.Join(tmp, Dir, b.Name+".zip")
	if err := zipBootstrap(bin, zipPath); err != nil {
		return f, &Error{Code: "io", BFF: b.Name, Msg: err.Error()}
	}
	if info, err = os.Stat(zipPath); err != nil {
		return f, &Error{Code: "io", BFF: b.Name, Msg: err.Error()}
	}
	f.ZipBytes = info.Size()
	return f, nil
}

// BuildBootstrap builds the main package pkg, relative to root, into out
// for goos/goarch the way Lambda wants it: static (CGO off), without the
// RPC mode of aws-lambda-go, stripped, with no local paths. Tests build for
// the host to run the bootstrap under the Lambda emulator.
func BuildBootstrap(ctx context.Context, goCmd, root, pkg, goos, goarch, out string) error {
	if goCmd == "" {
		goCmd = "go"
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return &Error{Code: "io", Msg: err.Error()}
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = root
	// The go command's own environment (PATH, GOCACHE, GOPROXY…) is kept;
	// only the target is set.
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return &Error{Code: "go_build", Msg: fmt.Sprintf("go build %s (GOOS=%s GOARCH=%s): %s", pkg, goos, goarch, msg)}
	}
	return nil
}

// zipBootstrap writes a zip holding bin as an executable file called
// bootstrap, with a fixed time so the same binary gives the same zip.
func zipBootstrap(bin, zipPath string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := addFile(zw, "bootstrap", 0o755, data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(zipPath, buf.Bytes(), 0o644)
}

// zipTime is the time of every file in a zip, so the same files give the
// same zip.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func addFile(zw *zip.Writer, name string, mode os.FileMode, data []byte) error {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
