// Package httpserve runs an http.Handler, such as a BFF, as a local HTTP
// server with the timeouts a server facing a shell or a browser needs, and
// stops it gracefully. It uses the standard library only.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Options tune a server.
type Options struct {
	// Addr is the address to listen on. Optional. Default: "127.0.0.1:0".
	Addr string
	// Listening, if set, is called with the base URL once the server listens.
	Listening func(url string)
	// ShutdownTimeout bounds the graceful stop when ctx is done.
	// Optional. Default: 5s.
	ShutdownTimeout time.Duration
}

// Serve serves h until ctx is done, then stops taking connections and waits
// for the requests in flight.
func Serve(ctx context.Context, h http.Handler, opts Options) error {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if opts.Listening != nil {
		opts.Listening("http://" + ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), opts.ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}
