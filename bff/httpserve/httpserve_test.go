package httpserve_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff/httpserve"
)

// TestServe serves a handler, then stops it gracefully: the request in
// flight when the stop comes still gets its answer.
func TestServe(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			time.Sleep(100 * time.Millisecond)
		}
		io.WriteString(w, "hello")
	})
	ctx, cancel := context.WithCancel(context.Background())
	urlc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- httpserve.Serve(ctx, h, httpserve.Options{Listening: func(url string) { urlc <- url }})
	}()
	url := <-urlc
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Errorf("body %q", body)
	}
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-started
	cancel()
	if got := <-slow; got != "hello" {
		t.Errorf("request in flight at the stop: %q", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if _, err := http.Get(url + "/"); err == nil {
		t.Error("the server still answers after the stop")
	}
}

func TestServeBadAddr(t *testing.T) {
	t.Parallel()
	if err := httpserve.Serve(context.Background(), http.NotFoundHandler(), httpserve.Options{Addr: "127.0.0.1:notaport"}); err == nil {
		t.Error("Serve on a bad address is not an error")
	}
}
