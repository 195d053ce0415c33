package testbin

import (
	"bufio"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/internal/syncbuf"
)

// A Server is a collage serve running as a child process.
type Server struct {
	URL string          // where it listens: http://127.0.0.1:PORT
	Cmd *exec.Cmd       // the process
	Out *syncbuf.Buffer // what it wrote, to its standard output and error

	done chan struct{} // closed once the process has exited
	err  error         // what Wait returned, once done
}

var servingRE = regexp.MustCompile(`serving \d+ route\(s\) on (http://\S+)`)

// Start starts cmd, a collage serve on 127.0.0.1:0 (or a command that
// execs one), and waits up to a minute for the line where it says its
// URL; it sets the command's Stdout and Stderr. The process is killed when
// the test ends, and what it wrote is logged then if the test failed. name
// is how the messages call it.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Server {
	t.Helper()
	s := &Server{Cmd: cmd, Out: &syncbuf.Buffer{}, done: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(s.Out, pw)
	cmd.Stderr = s.Out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.err = cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("%s (%s):\n%s", name, strings.Join(cmd.Args, " "), s.Out.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case s.URL = <-urls:
	case <-s.done:
		t.Fatalf("%s exited before listening: %v\n%s", name, s.err, s.Out.String())
	case <-time.After(time.Minute):
		t.Fatalf("%s did not listen within a minute\n%s", name, s.Out.String())
	}
	return s
}

// Serve starts collage serve on the demo with args (--data, say), on a
// free port of 127.0.0.1, its admin token adminToken (and no other
// COLLAGE_ variable of this process), as Start does.
func (d *Demo) Serve(t testing.TB, name, adminToken string, args ...string) *Server {
	t.Helper()
	args = append([]string{"serve", "--config", filepath.Join(d.Root, "collage.yaml"), "--dist", d.Dist,
		"--addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(d.Bin, args...)
	cmd.Env = append(Env(), "COLLAGE_ADMIN_TOKEN="+adminToken)
	return Start(t, name, cmd)
}

// Kill sends SIGKILL to the process, as a crash would, and waits for it
// to end.
func (s *Server) Kill() {
	s.Cmd.Process.Kill()
	<-s.done
}

// Done is closed once the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is what waiting for the process returned: its exit status as an
// *exec.ExitError, or nil. It is valid once Done is closed.
func (s *Server) Err() error { return s.err }
