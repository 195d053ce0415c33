package main

import (
	"bufio"
	"strings"
	"testing"
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
