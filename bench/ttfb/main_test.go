package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoop runs the open-loop mode against servers that answer, fail
// and close their connections, and checks what it counts.
func TestOpenLoop(t *testing.T) {
	var conns atomic.Int32
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		ok      int
		dials   int32 // connections the server sees, at most
	}{
		{"keep-alive", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) }, 40, 4},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("head"))
			w.(http.Flusher).Flush()
			w.Write([]byte("body"))
		}, 40, 4},
		{"close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			w.Write([]byte("page"))
		}, 40, 44},
		{"error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) }, 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns.Store(0)
			srv := httptest.NewUnstartedServer(tc.handler)
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			res, err := openLoop(options{url: srv.URL + "/page?x=1", rate: 200, duration: 200 * time.Millisecond,
				workers: 4, timeout: time.Second, grace: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent != 40 || res.OK != tc.ok || res.Errors != 40-tc.ok {
				t.Errorf("sent %d, ok %d, errors %d; want 40, %d, %d (%s)", res.Sent, res.OK, res.Errors, tc.ok, 40-tc.ok, res.FirstErr)
			}
			if n := conns.Load(); n > tc.dials {
				t.Errorf("%d connections; want at most %d", n, tc.dials)
			}
		})
	}
}
