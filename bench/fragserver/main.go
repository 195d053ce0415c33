// Command fragserver serves the benchmark page's fragments over HTTP, the
// way a BFF running as its own process would: GET /NAME/_fragment answers
// NAME's ~2 KB of HTML after NAME's delay. It stops on SIGINT or SIGTERM.
//
//	fragserver --addr 127.0.0.1:18101 --delays 5,20,10,2
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/collage-dev/collage/bench/internal/frag"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18101", "address to listen on (loopback only)")
	delays := flag.String("delays", "0,0,0,0", "delay of each fragment ("+fmt.Sprint(frag.Names)+"), in ms or as durations")
	flag.Parse()
	if err := run(*addr, *delays); err != nil {
		log.Fatalf("fragserver: %v", err)
	}
}

func run(addr, delays string) error {
	ds, err := frag.ParseDelays(delays)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	for i, name := range frag.Names {
		mux.Handle("GET /"+name+"/_fragment", handler(frag.Body(name), ds[i]))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Printf("fragserver: serving %v with delays %v on http://%s", frag.Names, ds, ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}

// handler answers body after delay; a request cancelled during the delay
// gets nothing, as the caller has gone.
func handler(body []byte, delay time.Duration) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if frag.Sleep(r.Context(), delay) != nil {
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", length)
		w.Write(body)
	})
}
