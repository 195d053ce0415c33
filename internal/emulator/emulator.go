// Package emulator runs a Lambda bootstrap under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie), for tests and benchmarks. It uses the
// standard library only.
//
// scripts/install-rie.sh installs the emulator at the pinned Version. A
// test that needs it calls Require (or Optional), which skips with a loud
// message when the emulator is missing, and fails instead when CI=true.
//
// The emulator serves one function, always called "function", and fails
// when invocations overlap: an Emulator serialises the calls made through
// Invoke, and callers that reach it otherwise (the AWS SDK) must not
// overlap their calls.
//
// The emulator buffers every answer: RuntimeAPI fakes the Runtime API's
// invocation endpoints instead, to test a function that streams.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/syncbuf"
)

// Version pins the emulator that scripts/install-rie.sh installs; the
// script reads it from this line, in a const block.
const (
	Version = "v0.0.0-20261030222936-bef5c4ba774d"
)

// InvokePath is the emulator's endpoint for a synchronous invocation.
const InvokePath = "/2015-03-31/functions/function/invocations"

// Find returns the path of aws-lambda-rie: $AWS_LAMBDA_RIE, then PATH, then
// $GOBIN and $GOPATH/bin, where go install puts it.
func Find() (string, error) {
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("AWS_LAMBDA_RIE: %w", err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "aws-lambda-rie")
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("aws-lambda-rie is not installed: run bash scripts/install-rie.sh")
}

// Require returns the emulator's path, or skips t loudly when it is
// missing; under CI=true a missing emulator fails t.
func Require(t testing.TB) string {
	t.Helper()
	p, err := Find()
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(missing("FAILING (CI=true)", err))
	}
	t.Skip(missing("SKIPPING", err))
	return ""
}

// Optional is Require for a test that has other work to do without the
// emulator: when it is missing, it logs loudly and returns false, and
// under CI=true fails t.
func Optional(t testing.TB) (string, bool) {
	t.Helper()
	p, err := Find()
	if err == nil {
		return p, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(missing("FAILING (CI=true)", err))
	}
	t.Log(missing("SKIPPING THE LAMBDA PART", err))
	return "", false
}

func missing(what string, err error) string {
	return "\n*** " + what + ": this test needs the AWS Lambda Runtime Interface Emulator.\n*** " + err.Error() + "\n"
}

// Emulator is a running aws-lambda-rie serving one bootstrap.
type Emulator struct {
	// URL is the emulator's base URL: POST URL+InvokePath invokes.
	URL string
	// Started is when the emulator process started.
	Started time.Time

	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncbuf.Buffer
	mu     sync.Mutex
	client *http.Client
}

// Start runs the emulator rie with bootstrap on free loopback ports, with
// env added to the function's environment, and waits until it listens. The
// bootstrap itself starts on the first invocation, as in Lambda.
func Start(rie, bootstrap string, env ...string) (*Emulator, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out := &syncbuf.Buffer{}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_TIMEOUT=30", "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = out, out
	// A process group of its own, so Close ends the bootstrap with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	exited := make(chan struct{})
	e := &Emulator{URL: "http://" + addr, cmd: cmd, exited: exited, out: out, client: &http.Client{Timeout: 60 * time.Second}}
	e.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return e, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("aws-lambda-rie exited at start: %s", strings.TrimSpace(out.String()))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Close()
			return nil, fmt.Errorf("aws-lambda-rie did not listen on %s: %s", addr, strings.TrimSpace(out.String()))
		}
	}
}

// StartT is Start for a test: it fails t on an error and stops the
// emulator when t ends, printing its output if t failed.
func StartT(t testing.TB, rie, bootstrap string, env ...string) *Emulator {
	t.Helper()
	e, err := Start(rie, bootstrap, env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		if t.Failed() {
			t.Logf("aws-lambda-rie output:\n%s", e.Output())
		}
	})
	return e
}

// Invoke sends payload as one synchronous invocation and returns the
// emulator's answer. Calls are serialised.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) (int, []byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+InvokePath, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Output returns what the emulator and the bootstrap printed so far.
func (e *Emulator) Output() string { return strings.TrimSpace(e.out.String()) }

// Close stops the emulator and its bootstrap.
func (e *Emulator) Close() error {
	pgid := e.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(2 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-e.exited
	}
	// The bootstrap may outlive the emulator by a moment.
	syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
