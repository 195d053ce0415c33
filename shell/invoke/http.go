package invoke

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/collage-dev/collage/bff"
)

// DefaultMaxConnsPerHost caps the connections to one HTTP BFF.
const DefaultMaxConnsPerHost = 256

// HTTPOptions tune the connections to an HTTP BFF.
type HTTPOptions struct {
	// MaxConnsPerHost caps concurrent connections to the upstream.
	// Optional. Default: DefaultMaxConnsPerHost.
	MaxConnsPerHost int
	// IdleConnsPerHost is how many keep-alive connections net/http pools
	// for the calls other than fragments; the fragments' own client keeps
	// every connection it may use, up to MaxConnsPerHost. Optional.
	// Default: 128.
	IdleConnsPerHost int
	// MaxFragmentBytes bounds a fragment's body: a larger one fails the
	// fetch. Optional. Default: DefaultMaxFragmentBytes.
	MaxFragmentBytes int64
	// NoPipeline fetches every fragment on a connection of its own, never
	// in a page's Batch: for a BFF behind a proxy that mishandles HTTP/1.1
	// pipelining. Optional. Default: false.
	NoPipeline bool
}

// DefaultMaxFragmentBytes bounds a fragment's body by default.
const DefaultMaxFragmentBytes = 1 << 20

// HTTP reaches a BFF at base, an http:// or https:// URL; a request for
// /_fragment goes to base + "/_fragment". Its fragments are fetched over
// HTTP/1.1 by a client of its own, lean enough for every slot of every
// page (see FetchFragment); other calls, whose bodies stream both ways,
// go through net/http. Each path keeps at most MaxConnsPerHost
// connections; a fragment request waits for one until its deadline.
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
	if opts.MaxFragmentBytes == 0 {
		opts.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = opts.MaxConnsPerHost
	t.MaxIdleConnsPerHost = opts.IdleConnsPerHost
	t.MaxIdleConns = opts.IdleConnsPerHost * 4
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	return &remote{base: u, t: t, fragments: newFragments(u, opts), noPipeline: opts.NoPipeline}, nil
}

type remote struct {
	base       *url.URL
	t          *http.Transport
	fragments  *fragments
	noPipeline bool
}

// FetchFragment sends GET /_fragment with call's headers and reads the
// whole answer, whose body stays in a pooled buffer until the answer is
// released. It stops at ctx's deadline; a cancellation without a deadline
// is not noticed before the request ends.
func (r *remote) FetchFragment(ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, bool, error) {
	ans, err := r.fragments.fetch(ctx, call)
	return ans, true, err
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
