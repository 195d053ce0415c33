package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The client of a running shell's publish API (docs/API.md), which publish,
// versions, promote, rollback, yank, history and token call.

const (
	// defaultShell is the shell's URL when neither --shell nor
	// COLLAGE_SHELL gives one: where `collage serve` listens by default.
	defaultShell = "http://127.0.0.1:3000"
	apiPath      = "/_collage/api/"
	// callTimeout bounds a JSON call, from the dial to the answer's end.
	callTimeout = 30 * time.Second
	// uploadTimeout bounds an upload: a large archive over a slow link,
	// then the shell's checks and writes.
	uploadTimeout = 10 * time.Minute
	// maxAnswer bounds the answer read: a long history is the largest.
	maxAnswer = 32 << 20
)

// apiFlags are the flags of every command that calls the API.
type apiFlags struct{ shell, token string }

func (a *apiFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&a.shell, "shell", "", "the shell's URL (default $COLLAGE_SHELL, else "+defaultShell+")")
	fset.StringVar(&a.token, "token", "", "the API token (default $COLLAGE_TOKEN, which other users of the machine cannot see in its process list)")
}

// client returns the client the flags and the environment describe.
func (a *apiFlags) client() (*client, error) {
	base := cmp.Or(a.shell, os.Getenv("COLLAGE_SHELL"), defaultShell)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the shell's URL %q (--shell or COLLAGE_SHELL): want http(s)://HOST[:PORT], such as %s", base, defaultShell)
	}
	token := strings.TrimSpace(cmp.Or(a.token, os.Getenv("COLLAGE_TOKEN")))
	if token == "" {
		return nil, errors.New("no API token: pass --token or set COLLAGE_TOKEN (`collage token create` makes one; the first start of serve prints an admin token)")
	}
	return &client{base: strings.TrimSuffix(u.String(), "/"), token: token, http: &http.Client{
		// A redirect would lose a POST's body, and may lose the token:
		// the caller is told where the shell is instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// A client calls one shell's API with one token.
type client struct {
	base  string // the shell's URL, without a trailing slash
	token string
	http  *http.Client
}

// call sends in (if not nil) as JSON to the API's path and decodes the
// answer's JSON into out (if not nil).
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	_, err := c.send(ctx, method, path, "application/json", bytes.NewReader(body), int64(len(body)), callTimeout, out)
	return err
}

// send sends body, of size bytes, to the API's path, waits at most limit
// for the whole exchange, and decodes the answer's JSON into out (if not
// nil). It returns the answer's status; an answer that is not a success is
// an *apiError.
func (c *client) send(ctx context.Context, method, path, contentType string, body io.Reader, size int64, limit time.Duration, out any) (int, error) {
	callCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if size == 0 {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(callCtx, method, c.base+apiPath+path, body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if size > 0 {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, c.unreachable(ctx, err, limit)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return 0, c.unreachable(ctx, err, limit)
	}
	if len(data) > maxAnswer {
		return 0, fmt.Errorf("the shell at %s answered %s with more than %d bytes", c.base, path, maxAnswer)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return 0, fmt.Errorf("the shell at %s redirects %s to %q: set --shell or COLLAGE_SHELL to the shell's own URL", c.base, apiPath+path, resp.Header.Get("Location"))
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, refusal(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return 0, fmt.Errorf("the shell at %s answered %s %s with a body that is not the API's JSON: %v", c.base, method, apiPath+path, err)
		}
	}
	return resp.StatusCode, nil
}

// unreachable says why a call got no answer.
func (c *client) unreachable(ctx context.Context, err error, limit time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err() // interrupted
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the shell at %s did not answer within %s", c.base, limit)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	op, isOp := errors.AsType[*net.OpError](err)
	_, isDNS := errors.AsType[*net.DNSError](err)
	if isDNS || isOp && op.Op == "dial" {
		return fmt.Errorf("cannot reach the shell at %s: %v (is collage serve running? set --shell or COLLAGE_SHELL)", c.base, err)
	}
	return fmt.Errorf("cannot reach the shell at %s: %v", c.base, err)
}

// An apiError is the shell's refusal of a call: the code and message of
// its JSON error, and the status it came with.
type apiError struct {
	Status               int
	Code, Message, Field string
}

func (e *apiError) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, msg)
}

// refusal is the error of an answer with status and body data: the API's
// JSON error, or, from something else on the way (a proxy, a shell without
// the API), its status and the start of its text.
func refusal(status int, data []byte) error {
	var body struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
		return &apiError{Status: status, Code: body.Error.Code, Message: body.Error.Message, Field: body.Error.Field}
	}
	code := "error"
	if text := http.StatusText(status); text != "" {
		code = strings.ReplaceAll(strings.ToLower(text), " ", "_")
	}
	text := strings.Join(strings.Fields(string(data)), " ")
	if len(text) > 200 {
		cut := 200
		for !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	if text == "" {
		text = "no error in the answer"
	}
	return &apiError{Status: status, Code: code, Message: text}
}

// A progress counts the bytes of an upload as the HTTP client reads them
// and shows them: on a terminal, one line that rewrites itself at most
// every tick; elsewhere, such as a CI log, one line at each quarter.
type progress struct {
	r     io.Reader
	w     io.Writer
	what  string // "uploading cart"
	total int64
	tty   bool
	tick  time.Duration

	mu    sync.Mutex // the client may still read while the answer is handled
	sent  int64
	shown int64 // the count last shown
	last  time.Time
	ended bool
}

// progressTick is how often a terminal's progress line is rewritten.
const progressTick = 100 * time.Millisecond

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == 0 || p.ended {
		return n, err
	}
	p.sent += int64(n)
	switch {
	case p.tty:
		if now := time.Now(); p.sent == p.total || now.Sub(p.last) >= p.tick {
			p.last, p.shown = now, p.sent
			fmt.Fprintf(p.w, "\r%s\x1b[K", p.line())
		}
	case p.total > 0:
		if p.sent*4/p.total > p.shown*4/p.total {
			p.shown = p.sent
			fmt.Fprintln(p.w, p.line())
		}
	}
	return n, err
}

// end ends the terminal's line, showing the last count.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && !p.ended {
		if p.sent != p.shown {
			fmt.Fprintf(p.w, "\r%s\x1b[K", p.line())
		}
		fmt.Fprintln(p.w)
	}
	p.ended = true
}

func (p *progress) line() string {
	pct := int64(100)
	if p.total > 0 {
		pct = p.sent * 100 / p.total
	}
	return fmt.Sprintf("%s: %s of %s (%d%%)", p.what, byteSize(p.sent), byteSize(p.total), pct)
}

// byteSize is n in bytes, kB or MB.
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return mb(n)
}
