package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestReadAnswer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer string
		body   string
		keep   bool
	}{
		{"200 with a length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: text/html\r\n\r\nhello", "hello", true},
		{"another status: the fallback, the connection kept", "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", "fallback", true},
		{"chunked: not read", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "fallback", false},
		{"no length", "HTTP/1.1 200 OK\r\n\r\nhello", "fallback", false},
		{"the connection closes after", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", "fallback", false},
		{"body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", "fallback", false},
		{"not HTTP/1.1", "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", "fallback", false},
		{"a header without a colon", "HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello", "fallback", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cn := &seqConn{br: bufio.NewReader(strings.NewReader(tt.answer))}
			b, keep := cn.readAnswer([]byte("<slot>"), []byte("fallback"))
			if got, want := string(b), "<slot>"+tt.body; got != want || keep != tt.keep {
				t.Errorf("readAnswer = %q, keep %v; want %q, keep %v", got, keep, want, tt.keep)
			}
		})
	}
}

// TestPipelined composes pages over one connection a page, and gives the
// fallback to every slot whose answer cannot be read any more.
func TestPipelined(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if name == "broken" { // an answer without a length ends the connection
			w.Header().Set("Transfer-Encoding", "chunked")
		}
		io.WriteString(w, "<p>"+name+"</p>")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	page := func(s *sequential) string {
		t.Helper()
		app := fiber.New()
		app.Get("/", s.handle)
		resp, err := app.Test(httptest.NewRequest("GET", "/", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	slot := func(name string) string {
		return `<collage-slot frontend="` + name + `" timeout="1s">no ` + name + `</collage-slot>`
	}
	for _, tt := range []struct {
		name, layout, want string
	}{
		{"every answer", "<a>" + slot("x") + slot("y") + slot("z") + "</a>",
			`<a><collage-slot frontend="x"><p>x</p></collage-slot><collage-slot frontend="y"><p>y</p></collage-slot><collage-slot frontend="z"><p>z</p></collage-slot></a>`},
		{"an answer it cannot read: the fallback from there on", slot("x") + slot("broken") + slot("z"),
			`<collage-slot frontend="x"><p>x</p></collage-slot><collage-slot frontend="broken">no broken</collage-slot><collage-slot frontend="z">no z</collage-slot>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newSequential([]byte(tt.layout), srv.URL, true)
			if err != nil {
				t.Fatal(err)
			}
			before := conns.Load()
			for range 3 {
				if got := page(s); got != tt.want {
					t.Fatalf("page = %s\nwant %s", got, tt.want)
				}
			}
			want := int32(1) // one connection, kept for every page
			if strings.Contains(tt.layout, "broken") {
				want = 3 // one a page: the answer it cannot read ends it
			}
			if got := conns.Load() - before; got != want {
				t.Errorf("%d connections for 3 pages, want %d", got, want)
			}
		})
	}
}
