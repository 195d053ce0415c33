package parity

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/bff"
)

//go:embed templates/*.html
var templates embed.FS

var tmpl = template.Must(template.ParseFS(templates, "templates/*.html")).Lookup("fragment.html")

// Echo is what GET /echo reads from a request, and answers.
type Echo struct {
	Tags      []string `query:"tag" json:"tags"`
	Q         string   `query:"q" json:"q"`
	UserAgent string   `header:"User-Agent" json:"userAgent"`
	Signature string   `header:"X-Signature" json:"signature"`
	Lang      string   `header:"Accept-Language" json:"lang"`
	Cookie    string   `header:"Cookie" json:"cookieHeader"`
	A         string   `cookie:"a" json:"a"`
	B         string   `cookie:"b" json:"b"`
	C         string   `cookie:"c" json:"c"`
}

// InvocationInfo is what GET /invocation answers: the Lambda invocation
// its ctx carries. It differs by transport, so it is not in the table.
type InvocationInfo struct {
	InLambda     bool   `json:"inLambda"`
	RequestID    string `json:"requestId"`
	FunctionARN  string `json:"functionArn"`
	DeadlineInMs int64  `json:"deadlineInMs"`
}

// FragmentData is what the fragment shows: the request, a cookie, a
// forwarded header and a header of the fragment request.
type FragmentData struct {
	*bff.FragmentRequest
	CookieA    string
	Lang       string
	PathHeader string
}

// Item is the body of POST /items.
type Item struct {
	Name string `json:"name"`
	Qty  int    `json:"qty"`
}

// ItemID names an item in the path.
type ItemID struct {
	ID string `path:"id" json:"id"`
}

// Binary is the body of GET /image: every byte value, so not UTF-8.
var Binary = func() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return append([]byte("\x89PNG\r\n\x1a\n"), b...)
}()

// New returns the parity BFF. It has no settings.
func New(bff.Settings) (*bff.BFF, error) {
	b := bff.New("parity")
	bff.Handle(b, "GET /echo", func(ctx context.Context, in Echo) (Echo, error) { return in, nil })
	bff.Handle(b, "POST /items", func(ctx context.Context, in Item) (Item, error) {
		if in.Qty < 1 {
			return Item{}, bff.BadRequest("qty", "must be at least 1")
		}
		bff.SetStatus(ctx, http.StatusCreated)
		bff.SetHeader(ctx, "Location", "/items/"+in.Name)
		return in, nil
	})
	bff.Handle(b, "GET /items/{id}", func(ctx context.Context, in ItemID) (ItemID, error) {
		switch in.ID {
		case "missing":
			return ItemID{}, bff.NotFound("no item %q", in.ID)
		case "taken":
			return ItemID{}, bff.Errorf(http.StatusConflict, "item %q is taken", in.ID)
		}
		return in, nil
	})
	bff.Handle(b, "GET /image", func(ctx context.Context, _ struct{}) (bff.Blob, error) {
		bff.SetHeader(ctx, "Cache-Control", "public, max-age=60")
		return bff.Blob{ContentType: "image/png", Data: Binary}, nil
	})
	bff.Handle(b, "GET /text", func(ctx context.Context, _ struct{}) (bff.Blob, error) {
		return bff.Blob{ContentType: "text/plain; charset=utf-8", Data: []byte("héllo, wörld ✓\n")}, nil
	})
	bff.Handle(b, "GET /login", func(ctx context.Context, _ struct{}) (map[string]bool, error) {
		bff.SetCookie(ctx, &http.Cookie{Name: "session", Value: "s1", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		bff.SetCookie(ctx, &http.Cookie{Name: "theme", Value: "dark", Path: "/", Expires: time.Date(2037, 10, 21, 7, 28, 0, 0, time.UTC)})
		bff.SetCookie(ctx, &http.Cookie{Name: "csrf", Value: "a,b", Path: "/", Secure: true})
		bff.SetHeader(ctx, "X-Signature", `keyId="k1",algorithm="hmac-sha256",signature="YWJj,ZGVm=="`)
		bff.SetHeader(ctx, "Vary", "Cookie, Accept-Language")
		return map[string]bool{"ok": true}, nil
	})
	bff.Handle(b, "GET /old", func(ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, bff.Redirect(http.StatusMovedPermanently, "/echo?tag=moved")
	})
	bff.Handle(b, "GET /unavailable", func(ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, bff.Errorf(http.StatusServiceUnavailable, "down for maintenance")
	})
	bff.Handle(b, "GET /broken", func(ctx context.Context, _ struct{}) (struct{}, error) {
		return struct{}{}, errors.New("the database is on fire")
	})
	bff.Handle(b, "GET /panic", func(ctx context.Context, _ struct{}) (struct{}, error) {
		panic("parity: deliberate panic")
	})
	bff.Handle(b, "GET /invocation", func(ctx context.Context, _ struct{}) (InvocationInfo, error) {
		inv, ok := lambda.FromContext(ctx)
		info := InvocationInfo{InLambda: ok, RequestID: inv.RequestID, FunctionARN: inv.FunctionARN}
		if ok {
			info.DeadlineInMs = time.Until(inv.Deadline).Milliseconds()
		}
		return info, nil
	})
	bff.Fragment(b, tmpl, func(ctx context.Context, f *bff.FragmentRequest) (FragmentData, error) {
		switch f.Param("id") {
		case "gone":
			return FragmentData{}, bff.NotFound("product gone")
		case "fail":
			return FragmentData{}, errors.New("parity: the fragment's data source failed")
		case "panic":
			panic("parity: deliberate panic in a fragment")
		}
		a, _ := bff.Cookie(ctx, "a")
		if a != "" {
			bff.SetCookie(ctx, &http.Cookie{Name: "seen", Value: f.Param("id"), Path: "/"})
			bff.SetHeader(ctx, "Cache-Control", "private, max-age=5")
		}
		return FragmentData{FragmentRequest: f, CookieA: a, Lang: bff.Header(ctx, "Accept-Language"),
			PathHeader: bff.Header(ctx, "collage-path")}, nil
	})
	return b, nil
}

var _ bff.Factory = New

// Case is one request of the table.
type Case struct {
	Name   string
	Method string
	Target string // path and query, as sent
	Header http.Header
	Body   []byte
	// RepeatsValues is set when the request repeats a query key or a
	// header: an ALB without multi-value headers passes only one of them.
	RepeatsValues bool
}

// Request returns the case as a request to send, from 127.0.0.1.
func (c Case) Request(ctx context.Context) *http.Request {
	r := httptest.NewRequestWithContext(ctx, c.Method, c.Target, bytes.NewReader(c.Body))
	r.Header = c.Header.Clone()
	r.RemoteAddr = "127.0.0.1:1234"
	r.Host = "bff.example"
	if len(c.Body) == 0 {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	return r
}

// FragmentCall is the case, a GET /_fragment, as a shell makes it without
// HTTP: the Collage-* headers become the call's fields, the others are
// forwarded.
func (c Case) FragmentCall() *bff.FragmentCall {
	fc := &bff.FragmentCall{Path: c.Header.Get(bff.HeaderPath), Params: c.Header.Get(bff.HeaderParams),
		Slot: c.Header.Get(bff.HeaderSlot), Header: c.Header.Clone()}
	for _, k := range []string{bff.HeaderPath, bff.HeaderParams, bff.HeaderSlot} {
		fc.Header.Del(k)
	}
	return fc
}

// FragmentCases are the cases of the table that are fragment requests.
func FragmentCases() []Case {
	var out []Case
	for _, c := range Cases() {
		if c.Target == bff.FragmentPath {
			out = append(out, c)
		}
	}
	return out
}

// UserAgent has commas, like every browser's.
const UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

func header(kv ...string) http.Header {
	h := http.Header{"User-Agent": {UserAgent}}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// Cases is the table.
func Cases() []Case {
	jsonCT := "application/json"
	return []Case{
		{Name: "get echo: query arrays, comma headers, several cookies", Method: "GET",
			Target: "/echo?tag=a&tag=b&tag=c%20d&q=x%2Cy%26z+w",
			Header: header("X-Signature", `keyId="k1",algorithm="hmac-sha256",signature="YWJj,ZGVm=="`,
				"Accept-Language", "en-GB,en;q=0.9,fr;q=0.8", "Cookie", "a=1; b=two; c=x=y"),
			RepeatsValues: true},
		{Name: "get echo: no query, no cookies", Method: "GET", Target: "/echo", Header: header()},
		{Name: "post json: created", Method: "POST", Target: "/items",
			Header: header("Content-Type", jsonCT), Body: []byte(`{"name":"pen","qty":2}`)},
		{Name: "post json: field of the wrong type", Method: "POST", Target: "/items",
			Header: header("Content-Type", jsonCT), Body: []byte(`{"name":"pen","qty":"two"}`)},
		{Name: "post json: invalid", Method: "POST", Target: "/items",
			Header: header("Content-Type", jsonCT), Body: []byte(`{"name":`)},
		{Name: "post json: validation", Method: "POST", Target: "/items",
			Header: header("Content-Type", jsonCT), Body: []byte(`{"name":"pen","qty":0}`)},
		{Name: "post binary body: unsupported", Method: "POST", Target: "/items",
			Header: header("Content-Type", "application/octet-stream"), Body: Binary},
		{Name: "get binary response", Method: "GET", Target: "/image", Header: header()},
		{Name: "get utf-8 text response", Method: "GET", Target: "/text", Header: header()},
		{Name: "set several cookies and comma headers", Method: "GET", Target: "/login", Header: header()},
		{Name: "path value with an escape", Method: "GET", Target: "/items/caf%C3%A9%20noir", Header: header()},
		{Name: "404 from a function", Method: "GET", Target: "/items/missing", Header: header()},
		{Name: "409 from a function", Method: "GET", Target: "/items/taken", Header: header()},
		{Name: "404 no route", Method: "GET", Target: "/nowhere", Header: header()},
		{Name: "405 with Allow", Method: "DELETE", Target: "/echo", Header: header()},
		{Name: "301 redirect", Method: "GET", Target: "/old", Header: header()},
		{Name: "503 from a function", Method: "GET", Target: "/unavailable", Header: header()},
		{Name: "500 from an internal error", Method: "GET", Target: "/broken", Header: header()},
		{Name: "500 from a panic", Method: "GET", Target: "/panic", Header: header()},
		{Name: "fragment", Method: "GET", Target: "/_fragment",
			Header: header("Collage-Path", "/products/7?color=red&size=m", "Collage-Params", "id=7",
				"Collage-Slot", "main", "Cookie", "a=1; b=2")},
		{Name: "fragment 500 without a body", Method: "GET", Target: "/_fragment",
			Header: header("Collage-Path", "/products/fail", "Collage-Params", "id=fail")},
		{Name: "fragment 404", Method: "GET", Target: "/_fragment",
			Header: header("Collage-Path", "/products/gone", "Collage-Params", "id=gone")},
		{Name: "fragment 500 from a panic", Method: "GET", Target: "/_fragment",
			Header: header("Collage-Path", "/products/panic", "Collage-Params", "id=panic")},
		{Name: "fragment without Collage headers", Method: "GET", Target: "/_fragment",
			Header: header("Accept-Language", "de", "Cookie", "a=x")},
	}
}

// Result is an answer in the normal form the transports are compared in.
type Result struct {
	Status int
	// Header holds every response header but those a transport adds
	// (Date, Content-Length), each as its values joined with ", " as HTTP
	// allows, except Set-Cookie, whose values stay apart and in order.
	Header map[string][]string
	// Body is the body as text, or "base64:…" when it is not UTF-8.
	Body string
}

var transportHeaders = map[string]bool{"Date": true, "Content-Length": true, "Connection": true, "Keep-Alive": true}

// Read reads resp into its normal form and closes its body.
func Read(resp *http.Response) (Result, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, err
	}
	res := Result{Status: resp.StatusCode, Header: map[string][]string{}}
	for k, vs := range resp.Header {
		k = http.CanonicalHeaderKey(k)
		switch {
		case transportHeaders[k]:
		case k == "Set-Cookie":
			res.Header[k] = append(res.Header[k], vs...)
		default:
			res.Header[k] = []string{strings.Join(append(res.Header[k], vs...), ", ")}
		}
	}
	if utf8.Valid(body) {
		res.Body = string(body)
	} else {
		res.Body = "base64:" + base64.StdEncoding.EncodeToString(body)
	}
	return res, nil
}

// ReadAnswer reads a fragment answer into its normal form.
func ReadAnswer(ans bff.FragmentAnswer) (Result, error) {
	return Read(&http.Response{StatusCode: ans.Status, Header: ans.Header, Body: io.NopCloser(bytes.NewReader(ans.Body))})
}

var sessionRE = regexp.MustCompile(`\b[0-9a-f]{32}(\.[0-9A-Za-z_-]{43})?\b`)

// MaskSessions replaces random 32-hex session ids and their signatures,
// as the cart sets, so answers from separate processes compare equal.
func (r Result) MaskSessions() Result {
	out := Result{Status: r.Status, Header: map[string][]string{}, Body: sessionRE.ReplaceAllString(r.Body, "<session>")}
	for k, vs := range r.Header {
		for _, v := range vs {
			out.Header[k] = append(out.Header[k], sessionRE.ReplaceAllString(v, "<session>"))
		}
	}
	return out
}

// SortCookies puts Set-Cookie values in order, for a transport that
// cannot keep their order (an ALB without multi-value headers).
func (r Result) SortCookies() Result {
	out := Result{Status: r.Status, Header: make(map[string][]string, len(r.Header)), Body: r.Body}
	for k, vs := range r.Header {
		out.Header[k] = append([]string(nil), vs...)
	}
	sort.Strings(out.Header["Set-Cookie"])
	return out
}
