// Package fasthttp reaches a BFF over HTTP with fasthttp's client for
// fragment requests: pooled keep-alive connections, reused request and
// response buffers, no goroutine per connection and no *http.Request. It
// is the path of every fragment from an http:// or https:// BFF; other
// calls (/bff/NAME/*, with bodies that stream) go through invoke.HTTP.
package fasthttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/valyala/fasthttp"
)

// noDeadline bounds a fragment request whose context has no deadline.
const noDeadline = 30 * time.Second

// New reaches the BFF at base, an http:// or https:// URL. Fragments go to
// base + "/_fragment" with fasthttp, their bodies bounded by maxFragment
// bytes; every other request goes through invoke.HTTP(base, opts). At most
// opts.MaxConnsPerHost fragment requests are in flight at once; another
// waits for a connection until its deadline.
func New(base string, opts invoke.HTTPOptions, maxFragment int64) (invoke.Invoker, error) {
	inv, err := invoke.HTTP(base, opts)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(base) // invoke.HTTP has checked it
	if opts.MaxConnsPerHost == 0 {
		opts.MaxConnsPerHost = invoke.DefaultMaxConnsPerHost
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	hc := &fasthttp.HostClient{
		Addr:                     addr,
		IsTLS:                    u.Scheme == "https",
		MaxConns:                 opts.MaxConnsPerHost,
		MaxConnWaitTimeout:       noDeadline, // the request's deadline comes first
		MaxIdleConnDuration:      90 * time.Second,
		MaxResponseBodySize:      int(maxFragment),
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
	}
	return &client{Invoker: inv, hc: hc, host: u.Host,
		uri: strings.TrimSuffix(u.EscapedPath(), "/") + bff.FragmentPath, max: maxFragment}, nil
}

type client struct {
	invoke.Invoker // every request but fragments
	hc             *fasthttp.HostClient
	host           string // the Host header
	uri            string // the fragment's path
	max            int64
}

// FetchFragment sends GET /_fragment with call's headers and reads the whole
// answer, whose body stays in fasthttp's pooled response until the answer
// is released. It stops at ctx's deadline; a cancellation without a
// deadline is not noticed before the request ends.
func (c *client) FetchFragment(ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, bool, error) {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI(c.uri)
	req.Header.SetHost(c.host)
	for k, vs := range call.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set(bff.HeaderPath, call.Path)
	req.Header.Set(bff.HeaderParams, call.Params)
	if call.Slot != "" {
		req.Header.Set(bff.HeaderSlot, call.Slot)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(noDeadline)
	}
	resp := fasthttp.AcquireResponse()
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		fasthttp.ReleaseResponse(resp)
		switch {
		case errors.Is(err, fasthttp.ErrBodyTooLarge):
			err = fmt.Errorf("fragment is larger than %d bytes", c.max)
		case errors.Is(err, fasthttp.ErrTimeout):
			err = fmt.Errorf("GET %s%s: %w", c.host, c.uri, context.DeadlineExceeded)
		default:
			err = fmt.Errorf("GET %s%s: %w", c.host, c.uri, err)
		}
		return bff.FragmentAnswer{}, true, err
	}
	resp.Header.SetNoDefaultContentType(true) // a Content-Type only if it came
	ans := bff.FragmentAnswer{Status: resp.StatusCode(), Header: header(&resp.Header), Body: resp.Body()}
	return ans.ReleaseWith(func() { fasthttp.ReleaseResponse(resp) }), true, nil
}

// header returns the headers of a fragment's answer that mean something
// past its connection, nil if none: its framing (Content-Length,
// Transfer-Encoding, Connection, Keep-Alive) is spent once the body is
// read, and the shell neither reads nor passes on a fragment's Date.
// fasthttp has made the names canonical.
func header(rh *fasthttp.ResponseHeader) http.Header {
	var h http.Header
	for k, v := range rh.All() {
		if skipped(k) {
			continue
		}
		if h == nil {
			h = make(http.Header, 4)
		}
		key := string(k)
		h[key] = append(h[key], string(v))
	}
	return h
}

// skipped reports whether header k of an answer is left out of its Header.
func skipped(k []byte) bool {
	switch string(k) {
	case "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Date":
		return true
	}
	return false
}
