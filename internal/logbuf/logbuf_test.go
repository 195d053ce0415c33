package logbuf

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink records each write it is given.
type sink struct {
	mu     sync.Mutex
	writes []string
	err    error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	s.writes = append(s.writes, string(p))
	return len(p), nil
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

func TestLinesWaitThenGoInOneWrite(t *testing.T) {
	var s sink
	w := New(&s, time.Hour, 1024)
	for _, line := range []string{"a\n", "b\n", "c\n"} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", line, n, err)
		}
	}
	if got := s.got(); len(got) != 0 {
		t.Fatalf("written before Flush: %q", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := s.got(); len(got) != 1 || got[0] != "a\nb\nc\n" {
		t.Fatalf("after Flush: %q, want one write of the three lines", got)
	}
	if err := w.Flush(); err != nil || len(s.got()) != 1 {
		t.Fatalf("a Flush with nothing waiting wrote %q (err %v)", s.got(), err)
	}
}

func TestLinesGoOutAfterTheDelay(t *testing.T) {
	var s sink
	w := New(&s, 10*time.Millisecond, 1024)
	w.Write([]byte("first\n"))
	w.Write([]byte("second\n"))
	deadline := time.Now().Add(5 * time.Second)
	for len(s.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := s.got(); len(got) != 1 || got[0] != "first\nsecond\n" {
		t.Fatalf("written by the timer: %q, want both lines in one write", got)
	}
	// The timer is armed again by the next line after a flush.
	w.Write([]byte("third\n"))
	for len(s.got()) == 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := s.got(); len(got) != 2 || got[1] != "third\n" {
		t.Fatalf("after a second line: %q", got)
	}
}

func TestAFullBufferIsWrittenFirst(t *testing.T) {
	var s sink
	w := New(&s, time.Hour, 10)
	w.Write([]byte("12345\n")) // 6 bytes wait
	w.Write([]byte("6789\n"))  // 11 would not fit: the first goes out
	w.Write([]byte("a long line, more than the buffer\n"))
	w.Write([]byte("z\n"))
	w.Flush()
	want := []string{"12345\n", "6789\n", "a long line, more than the buffer\n", "z\n"}
	if got := s.got(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	var s sink
	w := New(&s, time.Millisecond, 256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				fmt.Fprintf(w, "g%d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	w.Flush()
	next := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(strings.Join(s.got(), ""), "\n"), "\n") {
		var g string
		var i int
		if _, err := fmt.Sscanf(line, "%s line %d", &g, &i); err != nil {
			t.Fatalf("line %q broken: %v", line, err)
		}
		if i != next[g] {
			t.Fatalf("%s: line %d after %d: out of order or lost", g, i, next[g]-1)
		}
		next[g]++
	}
	for g := range 8 {
		if n := next[fmt.Sprintf("g%d", g)]; n != 200 {
			t.Fatalf("g%d: %d lines written, want 200", g, n)
		}
	}
}

func TestOutsErrorIsReported(t *testing.T) {
	s := sink{err: errors.New("disk full")}
	w := New(&s, time.Hour, 8)
	w.Write([]byte("1234\n"))
	if _, err := w.Write([]byte("5678\n")); err == nil || err.Error() != "disk full" {
		t.Fatalf("Write that flushed: %v, want out's error", err)
	}
	s.mu.Lock()
	s.err = nil
	s.mu.Unlock()
	w.Write([]byte("ok\n"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := s.got(); len(got) != 1 || got[0] != "ok\n" {
		t.Fatalf("after the error: %q, want the later line alone", got)
	}
}
