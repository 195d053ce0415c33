package invoke

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"time"
)

// DefaultMaxConnsPerHost caps the connections to one HTTP BFF.
const DefaultMaxConnsPerHost = 256

// HTTPOptions tune the connections to an HTTP BFF.
type HTTPOptions struct {
	// MaxConnsPerHost caps concurrent connections to the upstream.
	// Optional. Default: DefaultMaxConnsPerHost.
	MaxConnsPerHost int
	// IdleConnsPerHost is how many keep-alive connections are pooled.
	// Optional. Default: 128.
	IdleConnsPerHost int
}

// HTTP reaches a BFF at base, an http:// or https:// URL; a request for
// /_fragment goes to base + "/_fragment".
func HTTP(base string, opts HTTPOptions) (Invoker, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bff %q is not an http:// or https:// URL", base)
	}
	if opts.MaxConnsPerHost == 0 {
		opts.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	if opts.IdleConnsPerHost == 0 {
		opts.IdleConnsPerHost = 128
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = opts.MaxConnsPerHost
	t.MaxIdleConnsPerHost = opts.IdleConnsPerHost
	t.MaxIdleConns = opts.IdleConnsPerHost * 4
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	return &remote{base: u, t: t}, nil
}

type remote struct {
	base *url.URL
	t    *http.Transport
}

func (r *remote) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *r.base
	u.Path = joinPath(r.base.Path, req.URL.Path)
	// The escaped form keeps an encoded slash (a%2Fb) within its segment;
	// URL falls back to escaping Path when the two disagree.
	u.RawPath = joinPath(r.base.EscapedPath(), req.URL.EscapedPath())
	u.RawQuery = req.URL.RawQuery
	out.URL, out.Host, out.RequestURI = &u, u.Host, ""
	return r.t.RoundTrip(out)
}

// joinPath appends p to base, keeping p's trailing slash.
func joinPath(base, p string) string {
	j := path.Join("/", base, p)
	if len(p) > 1 && p[len(p)-1] == '/' {
		j += "/"
	}
	return j
}
