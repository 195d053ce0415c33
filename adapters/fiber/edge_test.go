package fiber

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// flaky is a listener whose Accept fails with errs, one per call, then
// accepts a pipe.
type flaky struct {
	errs   []error
	calls  int
	closed bool
}

func (f *flaky) Accept() (net.Conn, error) {
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	c, _ := net.Pipe()
	return c, nil
}

func (f *flaky) Close() error   { f.closed = true; return nil }
func (f *flaky) Addr() net.Addr { return &net.TCPAddr{} }

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

func TestAcceptRetries(t *testing.T) {
	t.Parallel()
	f := &flaky{errs: []error{acceptErr(syscall.EMFILE), acceptErr(syscall.ENFILE), acceptErr(syscall.ECONNABORTED)}}
	l := newListener(f, slog.New(slog.DiscardHandler))
	began := time.Now()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept = %v, want a connection after the failures pass", err)
	}
	c.Close()
	if f.calls != 4 {
		t.Errorf("Accept called the listener %d times, want 4", f.calls)
	}
	// 5 + 10 + 20 ms of pauses: at least the first ones happened.
	if took := time.Since(began); took < 30*time.Millisecond {
		t.Errorf("three failures took %s: no pause between retries", took)
	}
}

func TestAcceptGivesUpOnOtherErrors(t *testing.T) {
	t.Parallel()
	f := &flaky{errs: []error{net.ErrClosed}}
	l := newListener(f, slog.New(slog.DiscardHandler))
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept = %v, want the listener's error", err)
	}
}

func TestAcceptStopsWhenClosed(t *testing.T) {
	t.Parallel()
	errs := make([]error, 100)
	for i := range errs {
		errs[i] = acceptErr(syscall.EMFILE)
	}
	l := newListener(&flaky{errs: errs}, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept = %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept kept retrying after Close")
	}
}

// TestConnState follows a connection through a request: the sweep of a
// shutdown closes it only between requests.
func TestConnState(t *testing.T) {
	t.Parallel()
	l := newListener(&flaky{}, slog.New(slog.DiscardHandler))
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*conn)
	steps := []struct {
		do   func()
		want int32
	}{
		{func() {}, between},
		{func() { c.state.Store(inRequest) }, inRequest}, // what edge does
		{func() { go c.Read(make([]byte, 1)); time.Sleep(10 * time.Millisecond) }, inRequest},
		{func() { c.SetWriteDeadline(time.Now()); c.Write([]byte("x")) }, answering},
	}
	for i, s := range steps {
		s.do()
		if got := c.state.Load(); got != s.want {
			t.Fatalf("step %d: state %d, want %d", i, got, s.want)
		}
		if n := l.busy(); (n == 1) != (s.want != between) {
			t.Errorf("step %d: busy() = %d", i, n)
		}
	}
	c.SetReadDeadline(time.Now())
	c.Read(make([]byte, 1))
	if got := c.state.Load(); got != between {
		t.Errorf("after the answer, a read leaves state %d, want between", got)
	}
	c.Close()
	if n := len(l.conns); n != 0 {
		t.Errorf("%d connections tracked after Close", n)
	}
}
