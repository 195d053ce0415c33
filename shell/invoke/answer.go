package invoke

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"slices"
)

const (
	// maxHeaderLines bounds the header lines of an answer, and of its trailer.
	maxHeaderLines = 100
	// maxHeadBytes bounds the bytes of an answer's head (the status line
	// and headers), and of its trailer.
	maxHeadBytes = 64 << 10
)

// errTooLarge is a body over the bound.
type errTooLarge struct{}

func (errTooLarge) Error() string { return "body too large" }

// answer is what the shell keeps of an answer's head.
type answer struct {
	status int
	header http.Header
	keep   bool // whether the connection may carry another request
}

// head is what an answer's status line and headers say.
type head struct {
	answer
	length  int64 // Content-Length; -1 if none
	chunked bool
}

// readAnswer reads the answer to a GET from br, as RFC 9112 frames it:
// informational (1xx) answers skipped, then the status line, the headers,
// and a body of Content-Length bytes, chunks, or every byte until the
// connection closes. A body over max bytes is an errTooLarge. What the
// shell must not misread is an error: two lengths that differ, a length
// beside chunks, a transfer coding other than chunked, a malformed line.
func readAnswer(br *bufio.Reader, max int64, b *body) (answer, error) {
	var h head
	for {
		var err error
		if h, err = readHead(br); err != nil {
			return h.answer, err
		}
		if h.status >= 200 {
			break
		}
		if h.status == http.StatusSwitchingProtocols {
			return h.answer, errors.New("answered 101 Switching Protocols to a GET")
		}
	}
	var err error
	switch {
	case h.status == http.StatusNoContent || h.status == http.StatusNotModified:
	case h.chunked:
		err = readChunked(br, max, b)
	case h.length > max:
		err = errTooLarge{}
	case h.length >= 0:
		if int64(cap(b.b)) < h.length {
			b.b = make([]byte, h.length)
		}
		b.b = b.b[:h.length]
		_, err = io.ReadFull(br, b.b)
	default: // the body ends with the connection
		h.keep = false
		err = readAll(br, max, b)
	}
	return h.answer, err
}

// readHead reads a status line and its headers.
func readHead(br *bufio.Reader) (h head, err error) {
	left := maxHeadBytes
	line, err := readLine(br, &left)
	if err != nil {
		return h, err
	}
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
		!digits(line[9:12]) || (len(line) > 12 && line[12] != ' ') {
		return h, fmt.Errorf("malformed status line %q", truncate(line))
	}
	h.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	http11 := line[7] == '1'
	h.length = -1
	var closes, keepAlive, shared bool
	for i := 0; ; i++ {
		if line, err = readLine(br, &left); err != nil {
			return h, err
		}
		if len(line) == 0 {
			break
		}
		if i == maxHeaderLines {
			return h, fmt.Errorf("more than %d header lines", maxHeaderLines)
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !token(line[:colon]) {
			return h, fmt.Errorf("malformed header line %q", truncate(line))
		}
		key := canonical(line[:colon])
		value := bytes.Trim(line[colon+1:], " \t")
		switch key {
		case "Content-Length":
			n, ok := parseLength(value)
			if !ok || (h.length >= 0 && n != h.length) {
				return h, fmt.Errorf("Content-Length %q: not one length", truncate(value))
			}
			h.length = n
		case "Transfer-Encoding":
			if !bytes.EqualFold(value, []byte("chunked")) {
				return h, fmt.Errorf("Transfer-Encoding %q: only chunked is read", truncate(value))
			}
			h.chunked = true
		case "Connection":
			for _, opt := range bytes.Split(value, []byte(",")) {
				opt = bytes.Trim(opt, " \t")
				closes = closes || bytes.EqualFold(opt, []byte("close"))
				keepAlive = keepAlive || bytes.EqualFold(opt, []byte("keep-alive"))
			}
		case "Keep-Alive", "Date": // spent with the connection; the shell passes no Date on
		default:
			v := common(value)
			switch {
			case h.header == nil && key == "Content-Type" && v == htmlType:
				h.header, shared = htmlHeader, true
				continue
			case shared:
				h.header, shared = h.header.Clone(), false
			case h.header == nil:
				h.header = make(http.Header, 8)
			}
			h.header[key] = append(h.header[key], v)
		}
	}
	if h.chunked && h.length >= 0 {
		return h, errors.New("both Content-Length and Transfer-Encoding: chunked")
	}
	h.keep = !closes && (http11 || keepAlive)
	return h, nil
}

// readChunked reads a chunked body, then its trailer, which is dropped.
func readChunked(br *bufio.Reader, max int64, b *body) error {
	if err := readAll(httputil.NewChunkedReader(br), max, b); err != nil {
		return err
	}
	left := maxHeadBytes
	for i := 0; ; i++ {
		line, err := readLine(br, &left)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if i == maxHeaderLines {
			return fmt.Errorf("more than %d trailer lines", maxHeaderLines)
		}
	}
}

// readAll appends r to b.b until io.EOF, failing past max bytes.
func readAll(r io.Reader, max int64, b *body) error {
	for {
		if len(b.b) == cap(b.b) {
			b.b = slices.Grow(b.b, 4096)
		}
		n, err := r.Read(b.b[len(b.b):cap(b.b)])
		b.b = b.b[:len(b.b)+n]
		if int64(len(b.b)) > max {
			return errTooLarge{}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads a line, without its CRLF (or bare LF), of at most *left
// bytes, and takes them from *left. A line that fits in br's buffer is
// returned in it, valid until the next read; a longer one is copied.
func readLine(br *bufio.Reader, left *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	var long []byte
	for errors.Is(err, bufio.ErrBufferFull) && len(long)+len(line) <= *left {
		long = append(long, line...)
		line, err = br.ReadSlice('\n')
	}
	if long != nil {
		line = append(long, line...)
	}
	switch {
	case len(line) > *left || errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("the answer's header lines exceed %d bytes", maxHeadBytes)
	case err == io.EOF && len(line) > 0:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	}
	*left -= len(line)
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// parseLength parses a Content-Length: decimal digits alone.
func parseLength(b []byte) (int64, bool) {
	if !digits(b) || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// token reports whether b is a header name: visible ASCII, no separator
// a name may not hold.
func token(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == '/' || c == ';' ||
			c == '<' || c == '=' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' || c == ']' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// canonical is the canonical form of header name b: a shared string if it
// is a common one.
func canonical(b []byte) string {
	if s, ok := commonStrings[string(b)]; ok { // the lookup does not allocate
		return s
	}
	return textproto.CanonicalMIMEHeaderKey(string(b))
}

const htmlType = "text/html; charset=utf-8"

// htmlHeader is the Header of every answer whose only header the shell
// keeps is Content-Type: text/html; charset=utf-8, as most fragments
// answer: one map shared by them all, never changed (bff.FragmentAnswer's
// Header is read only).
var htmlHeader = http.Header{"Content-Type": {htmlType}}

// commonStrings are the header names and values most fragments answer
// with, shared instead of copied.
var commonStrings = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{"Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Date",
		"Cache-Control", "Vary", "Set-Cookie", "Location", "Etag", "Last-Modified", "Expires", "Age", "Server",
		"Server-Timing", "X-Content-Type-Options",
		htmlType, "text/html; charset=UTF-8", "text/html", "no-store", "no-cache", "private"} {
		m[s] = s
	}
	return m
}()

// common is b as a string: a shared one if b is common, else a copy.
func common(b []byte) string {
	if s, ok := commonStrings[string(b)]; ok {
		return s
	}
	return string(b)
}

// truncate shortens b for an error message.
func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
