// Package logbuf gathers a process's log lines in memory and writes them
// out together: at most a delay after the first line that waits, or as
// soon as the next would not fit. A busy server then makes one write for
// hundreds of lines rather than one for each, at the cost of a line
// reaching its file or pipe up to the delay later, and of the lines still
// waiting if the process dies before Flush.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Writer is an io.Writer that holds what it is given for out. It is safe
// for concurrent use.
type Writer struct {
	out   io.Writer
	delay time.Duration

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // armed while buf holds something
}

// New returns a Writer that holds at most size bytes for out, each for at
// most delay.
func New(out io.Writer, delay time.Duration, size int) *Writer {
	w := &Writer{out: out, delay: delay, buf: make([]byte, 0, size)}
	w.timer = time.AfterFunc(delay, func() { w.Flush() }) // an error here has nowhere to go
	w.timer.Stop()
	return w
}

// Write holds p, a whole line as the log package writes them. What waits
// is written out first if p would not fit, and p too if it is larger than
// the buffer, so lines keep their order. The error is out's, from writing
// what waited.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(p) > cap(w.buf) {
		if err := w.flush(); err != nil {
			return 0, err
		}
		if len(p) > cap(w.buf) {
			return w.out.Write(p)
		}
	}
	if len(w.buf) == 0 {
		w.timer.Reset(w.delay)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Flush writes out what waits, in one write.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flush()
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	w.timer.Stop()
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0] // dropped on an error too: a sink that fails would otherwise hold every later line
	return err
}
