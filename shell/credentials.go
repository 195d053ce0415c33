package shell

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// hopByHop are the headers of one connection, which never cross a proxy.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// CheckCookieName reports why name cannot be a frontend's declared cookie,
// or nil: a cookie name is an RFC 6265 token.
func CheckCookieName(name string) error {
	if !isToken(name) {
		return fmt.Errorf("cookie name %q is not a token (letters, digits and !#$%%&'*+-.^_`|~)", name)
	}
	return nil
}

// CheckHeaderName reports why name cannot be a frontend's declared header,
// or nil. A header name is a token, and one that every BFF receives, that
// belongs to one connection, or that the shell sets, cannot be declared;
// nor can Cookie, whose cookies are declared one by one.
func CheckHeaderName(name string) error {
	if !isToken(name) {
		return fmt.Errorf("header name %q is not a token (letters, digits and !#$%%&'*+-.^_`|~)", name)
	}
	k := http.CanonicalHeaderKey(name)
	switch {
	case k == "Cookie":
		return fmt.Errorf("header Cookie cannot be declared: list the cookie names under cookies")
	case has(Forwarded, k):
		return fmt.Errorf("header %s cannot be declared: every BFF receives it", k)
	case has(BFFForwarded, k):
		return fmt.Errorf("header %s cannot be declared: every /bff call carries it", k)
	case has(hopByHop, k):
		return fmt.Errorf("header %s cannot be declared: it is hop-by-hop, it belongs to one connection", k)
	case k == "Host" || k == "Content-Length" || strings.HasPrefix(k, "Collage-"):
		return fmt.Errorf("header %s cannot be declared: the shell sets it on each request to a BFF", k)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110's tchar, which is
// RFC 6265's cookie-name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// scope is what one frontend's BFF receives and may set. A nil *scope is a
// frontend that declares nothing.
type scope struct {
	cookies []string // cookie names it receives and may set
	headers []string // canonical names of the headers it receives besides Forwarded
}

// newScope checks and compiles f's declarations; it returns nil when f
// declares nothing.
func newScope(name string, f Frontend) (*scope, error) {
	if len(f.Cookies) == 0 && len(f.Headers) == 0 {
		return nil, nil
	}
	sc := &scope{}
	for _, c := range f.Cookies {
		if err := CheckCookieName(c); err != nil {
			return nil, fmt.Errorf("frontend %s: %w", name, err)
		}
		if !has(sc.cookies, c) {
			sc.cookies = append(sc.cookies, c)
		}
	}
	for _, h := range f.Headers {
		if err := CheckHeaderName(h); err != nil {
			return nil, fmt.Errorf("frontend %s: %w", name, err)
		}
		if k := http.CanonicalHeaderKey(h); !has(sc.headers, k) {
			sc.headers = append(sc.headers, k)
		}
	}
	return sc, nil
}

// header returns the part of h that sc's BFF receives with a fragment
// request: the headers in Forwarded and its declared headers, and cookie,
// its declared cookies, as its Cookie header. It returns nil when that is
// only what every BFF receives.
func (sc *scope) header(h http.Header, cookie string) http.Header {
	if sc == nil || (cookie == "" && !sc.sent(h)) {
		return nil
	}
	out := publicHeader(h, len(sc.headers)+1)
	for _, k := range sc.headers {
		if v, ok := h[k]; ok {
			out[k] = v
		}
	}
	if cookie != "" {
		out["Cookie"] = []string{cookie}
	}
	return out
}

// sent reports whether h holds a header sc declares.
func (sc *scope) sent(h http.Header) bool {
	for _, k := range sc.headers {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// publicHeader returns the headers of h in Forwarded, with room for more.
func publicHeader(h http.Header, more int) http.Header {
	out := make(http.Header, len(Forwarded)+more)
	for k, v := range h {
		if has(Forwarded, k) {
			out[k] = v
		}
	}
	return out
}

// cookie joins those of cookies, name=value pairs, whose name sc declares,
// in the order the browser sent them.
func (sc *scope) cookie(cookies []string) string {
	if sc == nil || len(sc.cookies) == 0 {
		return ""
	}
	var first string
	var b []byte
	for _, c := range cookies {
		name, _, _ := strings.Cut(c, "=")
		if !has(sc.cookies, name) {
			continue
		}
		switch {
		case first == "":
			first = c
		case b == nil:
			b = append(append(append(b, first...), "; "...), c...)
		default:
			b = append(append(b, "; "...), c...)
		}
	}
	if b != nil {
		return string(b)
	}
	return first // one cookie: no copy
}

// splitCookies returns the cookies of Cookie header values, name=value.
func splitCookies(values []string) []string {
	n := 0
	for _, v := range values {
		n += strings.Count(v, ";") + 1
	}
	out := make([]string, 0, n)
	for _, v := range values {
		for v != "" {
			var c string
			c, v, _ = strings.Cut(v, ";")
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// setCookies returns those of values, Set-Cookie headers of sc's BFF,
// that set a cookie sc declares, and logs the others, by the cookie's name
// and never its value. It returns values itself when it keeps them all.
func (sc *scope) setCookies(frontend string, values []string, log *slog.Logger, requestID string) []string {
	var kept []string
	for i, v := range values {
		name, _, ok := strings.Cut(v, "=")
		name = strings.TrimSpace(name)
		if ok && sc != nil && has(sc.cookies, name) {
			if kept != nil {
				kept = append(kept, v)
			}
			continue
		}
		if kept == nil {
			kept = append(make([]string, 0, len(values)-1), values[:i]...)
		}
		if !ok || !isToken(name) {
			name = "(malformed)"
		}
		log.Warn("dropped a Set-Cookie of a cookie the frontend does not declare",
			"request_id", requestID, "frontend", frontend, "cookie", name)
	}
	if kept == nil {
		return values
	}
	return kept
}

// hasCredentials reports whether h holds a header that not every BFF
// receives.
func hasCredentials(h http.Header) bool {
	for k := range h {
		if !has(Forwarded, k) {
			return true
		}
	}
	return false
}

// Credentials returns the names of the request headers that carry a
// credential some frontend declares: Cookie when one declares cookies, and
// each declared header. The HTTP edge copies them from the browser's
// request besides Forwarded; the shell hands each BFF only its own. The
// caller must not change the slice.
func (s *Shell) Credentials() []string { return s.credentials }

// ScopeCall leaves in h, the request header of a /bff call to the frontend
// called name, what its BFF receives: Forwarded, BFFForwarded, the headers
// it declares, and a Cookie header of its declared cookies alone.
func (s *Shell) ScopeCall(name string, h http.Header) {
	sc := s.scopes[name]
	var cookies []string
	if sc != nil && len(sc.cookies) > 0 {
		cookies = splitCookies(h["Cookie"])
	}
	for k := range h {
		if !has(Forwarded, k) && !has(BFFForwarded, k) && (sc == nil || !has(sc.headers, k)) {
			delete(h, k)
		}
	}
	if c := sc.cookie(cookies); c != "" {
		h["Cookie"] = []string{c}
	}
}

// SetCookies returns those of values, the Set-Cookie headers of an answer
// of the frontend called name, that set a cookie it declares, and logs
// the others by the cookie's name.
func (s *Shell) SetCookies(name, requestID string, values []string) []string {
	return s.scopes[name].setCookies(name, values, s.opts.Log, requestID)
}

// pageFetcher gets a page's fragments: it hands each slot its frontend's
// request, and keeps of the primary slot's Set-Cookie headers, the only
// ones the page passes on, those its frontend may set.
type pageFetcher struct {
	next compose.Fetcher
	page *Page
	log  *slog.Logger
	// reqs are the requests of the page's scopes, by index into
	// page.scopes; nil when every slot gets the page's request, which then
	// carries no credential.
	reqs []compose.Request
}

func (f *pageFetcher) Fetch(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Result {
	if f.reqs != nil {
		req = &f.reqs[f.page.slotScope[slot.Index]]
	}
	res := f.next.Fetch(ctx, slot, req)
	if slot.Primary {
		f.keepCookies(slot, req, &res)
	}
	return res
}

// keepCookies keeps of the primary slot's Set-Cookie headers those its
// frontend may set.
func (f *pageFetcher) keepCookies(slot *layout.Slot, req *compose.Request, res *compose.Result) {
	if vs := res.Header["Set-Cookie"]; len(vs) > 0 {
		kept := f.page.scopes[f.page.slotScope[slot.Index]].setCookies(slot.Frontend, vs, f.log, req.ID)
		if len(kept) != len(vs) {
			// The header may be a cached entry's, shared with other pages.
			res.Header = res.Header.Clone()
			res.Header["Set-Cookie"] = kept
			if len(kept) == 0 {
				delete(res.Header, "Set-Cookie")
			}
		}
	}
}

// Begin begins a slot's fetch below with its frontend's request, and
// keeps of the primary slot's Set-Cookie headers those its frontend may
// set, as Fetch does.
func (f *pageFetcher) Begin(ctx context.Context, slot *layout.Slot, req *compose.Request) compose.Pending {
	b, ok := f.next.(compose.Beginner)
	if !ok {
		return nil
	}
	if f.reqs != nil {
		req = &f.reqs[f.page.slotScope[slot.Index]]
	}
	p := b.Begin(ctx, slot, req)
	if p == nil || !slot.Primary {
		return p
	}
	return &cookiePending{Pending: p, f: f, slot: slot, req: req}
}

// cookiePending is the primary slot's fetch begun.
type cookiePending struct {
	compose.Pending
	f    *pageFetcher
	slot *layout.Slot
	req  *compose.Request
}

func (p *cookiePending) Wait(until time.Time) (compose.Result, bool) {
	res, ok := p.Pending.Wait(until)
	if ok {
		p.f.keepCookies(p.slot, p.req, &res)
	}
	return res, ok
}

// fetcher returns the fetcher of p for req: every slot gets req as it is
// when it carries no credential; else each slot gets a request with its
// frontend's scoped header, made once per page for each frontend on it
// whose credentials the browser sent, and once for all the others.
func (s *Shell) fetcher(p *Page, req *compose.Request) compose.Fetcher {
	if !hasCredentials(req.Header) {
		return p.fetcher
	}
	var cookies []string
	if p.cookies {
		cookies = splitCookies(req.Header["Cookie"])
	}
	f := &pageFetcher{next: s.opts.Fetcher, page: p, log: s.opts.Log, reqs: make([]compose.Request, len(p.scopes))}
	var public http.Header // what every BFF receives, made once
	for _, j := range p.slotScope {
		r := &f.reqs[j]
		if r.Header != nil {
			continue
		}
		*r = *req
		sc := p.scopes[j]
		if r.Header = sc.header(req.Header, sc.cookie(cookies)); r.Header == nil {
			// A frontend that declares nothing, or none of whose
			// credentials the browser sent.
			if public == nil {
				public = publicHeader(req.Header, 0)
			}
			r.Header = public
		}
	}
	return f
}
