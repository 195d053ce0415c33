package invoke

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
)

// TestReadAnswer: the framings a fragment server may answer with are read
// as RFC 9112 says, and what the shell could misread is refused.
func TestReadAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		status   int
		header   http.Header
		body     string
		keep     bool
		err      string
		rest     string // what the reader must not have consumed
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nDate: x\r\n\r\nhello",
			status: 200, header: http.Header{"Content-Type": {"text/html"}}, body: "hello", keep: true},
		{name: "the next answer is left", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1",
			status: 200, body: "hi", keep: true, rest: "HTTP/1.1"},
		{name: "chunked, with a trailer", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\nnext",
			status: 200, body: "abcde", keep: true, rest: "next"},
		{name: "bare LF, lower-case names, spaces", in: "HTTP/1.1 404 Not Found\nx-team:  recs \nset-cookie: a=1\nSet-Cookie: b=2\ncontent-length: 1\n\nx",
			status: 404, header: http.Header{"X-Team": {"recs"}, "Set-Cookie": {"a=1", "b=2"}}, body: "x", keep: true},
		{name: "informational answers skipped", in: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", keep: true},
		{name: "no body for 204", in: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP",
			status: 204, keep: true, rest: "HTTP"},
		{name: "no body for 304", in: "HTTP/1.1 304 Not Modified\r\nEtag: \"1\"\r\n\r\n",
			status: 304, header: http.Header{"Etag": {`"1"`}}, keep: true},
		{name: "Connection: close", in: "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
			status: 200, keep: false},
		{name: "HTTP/1.0", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, keep: false},
		{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", status: 200, keep: true},
		{name: "the body ends with the connection", in: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200, body: "all of it", keep: false},
		{name: "the same length twice", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", keep: true},
		{name: "a line longer than the buffer", in: "HTTP/1.1 200 OK\r\nSet-Cookie: " + strings.Repeat("c", 10000) + "\r\nContent-Length: 1\r\n\r\nx",
			status: 200, header: http.Header{"Set-Cookie": {strings.Repeat("c", 10000)}}, body: "x", keep: true},
		{name: "status line without a reason", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", status: 200, keep: true},

		{name: "two lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", err: `Content-Length "2": not one length`},
		{name: "a length that is not a number", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: `Content-Length "-1": not one length`},
		{name: "length beside chunks", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", err: "both Content-Length and Transfer-Encoding: chunked"},
		{name: "another coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", err: `Transfer-Encoding "gzip, chunked": only chunked is read`},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.2\r\n", err: `malformed status line "SSH-2.0-OpenSSH_9.2"`},
		{name: "a bad status", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: `malformed status line "HTTP/1.1 2x0 OK"`},
		{name: "a space before the colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", err: `malformed header line "Content-Length : 0"`},
		{name: "a folded line", in: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n", err: `malformed header line "  2"`},
		{name: "switching protocols", in: "HTTP/1.1 101 Switching Protocols\r\n\r\n", err: "answered 101 Switching Protocols to a GET"},
		{name: "cut in the head", in: "HTTP/1.1 200 OK\r\nContent-Le", err: "unexpected EOF"},
		{name: "cut in the body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", err: "unexpected EOF"},
		{name: "too large, by its length", in: "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", err: "body too large"},
		{name: "too large, in chunks", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n6\r\n123456\r\n0\r\n\r\n", err: "body too large"},
		{name: "too large, to the end", in: "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", 11), err: "body too large"},
		{name: "a line too long", in: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("x", 70000) + "\r\n\r\n", err: "the answer's header lines exceed 65536 bytes"},
		{name: "a head too long", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Big: "+strings.Repeat("x", 9000)+"\r\n", 8) + "\r\n", err: "the answer's header lines exceed 65536 bytes"},
		{name: "a trailer too long", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + strings.Repeat("X-T: "+strings.Repeat("x", 9000)+"\r\n", 8) + "\r\n", err: "the answer's header lines exceed 65536 bytes"},
		{name: "too many lines", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: 1\r\n", 101) + "\r\n", err: "more than 100 header lines"},
	}
	for _, tt := range tests {
		br := bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
		b := newBody()
		a, err := readAnswer(br, 10, b)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: err = %v, want %s", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if a.status != tt.status || !reflect.DeepEqual(a.header, tt.header) || string(b.b) != tt.body || a.keep != tt.keep {
			t.Errorf("%s: %d %v %q keep %v, want %d %v %q keep %v", tt.name, a.status, a.header, b.b, a.keep, tt.status, tt.header, tt.body, tt.keep)
		}
		if rest, _ := br.Peek(br.Buffered()); string(rest) != tt.rest {
			t.Errorf("%s: left %q unread, want %q", tt.name, rest, tt.rest)
		}
		b.release()
	}
}

// TestAnswerSharesCommonStrings: a fragment's usual answer, whose only
// header kept is an HTML Content-Type, costs no allocation: its Header is
// one map shared by all such answers.
func TestAnswerSharesCommonStrings(t *testing.T) {
	const in = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nDate: Mon, 30 Nov 2026 14:00:00 GMT\r\nContent-Length: 2\r\n\r\nok"
	r := strings.NewReader(in)
	br := bufio.NewReaderSize(r, 4096)
	b := newBody()
	read := func() {
		r.Reset(in)
		br.Reset(r)
		if _, err := readAnswer(br, 10, b); err != nil {
			t.Fatal(err)
		}
		b.b = b.b[:0]
	}
	read()
	if n := testing.AllocsPerRun(100, read); n > 0 {
		t.Errorf("readAnswer allocates %v times, want none", n)
	}
}

// TestSharedHeaderStaysShared: an answer with headers besides the HTML
// Content-Type gets a Header of its own, in whichever order they come, and
// the shared one is left as it was.
func TestSharedHeaderStaysShared(t *testing.T) {
	t.Parallel()
	for _, head := range []string{
		"Content-Type: text/html; charset=utf-8\r\nCache-Control: max-age=60\r\nContent-Type: text/plain\r\n",
		"Cache-Control: max-age=60\r\nContent-Type: text/html; charset=utf-8\r\nContent-Type: text/plain\r\n",
	} {
		br := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\n" + head + "Content-Length: 2\r\n\r\nok"))
		a, err := readAnswer(br, 10, newBody())
		if err != nil {
			t.Fatal(err)
		}
		want := http.Header{"Content-Type": {"text/html; charset=utf-8", "text/plain"}, "Cache-Control": {"max-age=60"}}
		if !reflect.DeepEqual(a.header, want) {
			t.Errorf("%q: header %v, want %v", head, a.header, want)
		}
	}
	if want := (http.Header{"Content-Type": {"text/html; charset=utf-8"}}); !reflect.DeepEqual(htmlHeader, want) {
		t.Errorf("the shared header became %v", htmlHeader)
	}
}

// TestRequest: the request is written as the BFF reads it, and a header
// value cannot end early.
func TestRequest(t *testing.T) {
	t.Parallel()
	f := &fragments{host: "bff.example:8080", uri: "/team/_fragment"}
	got := string(f.appendRequest(nil, &bff.FragmentCall{Path: "/p?q=1\r\nX-Injected: 1", Params: "id=7", Slot: "main",
		Header: http.Header{"Accept-Language": {"fr"}}}))
	want := "GET /team/_fragment HTTP/1.1\r\nHost: bff.example:8080\r\nAccept-Language: fr\r\n" +
		"Collage-Path: /p?q=1  X-Injected: 1\r\nCollage-Params: id=7\r\nCollage-Slot: main\r\n\r\n"
	if got != want {
		t.Errorf("request\n%q\nwant\n%q", got, want)
	}
}
