package cache

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// policy is what a fragment's response lets a shared cache do with it.
type policy struct {
	maxAge, swr time.Duration
	public      bool     // Cache-Control: public
	vary        []string // canonical header names, sorted, without duplicates
}

// readPolicy reads a 200 response's Cache-Control and Vary. It returns false
// when the response may not be stored: no positive max-age or s-maxage,
// private, no-store, no-cache, Vary: *, or a Set-Cookie. The error is for a
// Cache-Control it cannot read; such a response is not stored either.
func readPolicy(h http.Header) (policy, bool, error) {
	p, ok, err := parseCacheControl(h.Values("Cache-Control"))
	if err != nil || !ok || len(h.Values("Set-Cookie")) > 0 {
		return p, false, err
	}
	for _, v := range h.Values("Vary") {
		for n := range strings.SplitSeq(v, ",") {
			n = http.CanonicalHeaderKey(strings.TrimSpace(n))
			if n == "*" {
				return p, false, nil
			}
			if n != "" {
				p.vary = append(p.vary, n)
			}
		}
	}
	slices.Sort(p.vary)
	p.vary = slices.Compact(p.vary)
	return p, true, nil
}

// shareable reports whether a fragment stored (or fetched) under p may be
// given to a request that carried the credential headers creds: always when
// it carried none; otherwise only when the fragment is public and varies on
// every one of them, so that its key holds their values.
func shareable(public bool, vary, creds []string) bool {
	if len(creds) == 0 {
		return true
	}
	if !public {
		return false
	}
	for _, c := range creds {
		if _, ok := slices.BinarySearch(vary, c); !ok {
			return false
		}
	}
	return true
}

// carried returns the credential headers of h, sorted: every header not
// in anonymous (sorted). A header counts when present at all, even empty:
// the check errs on the side of not sharing. h's names are canonical.
func carried(h http.Header, anonymous []string) []string {
	var out []string
	for k := range h {
		if _, ok := slices.BinarySearch(anonymous, k); !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// canonical returns h with canonical names, h itself when they already are:
// a header map built by hand may spell "cookie", and a lookup by the
// canonical name must not miss it.
func canonical(h http.Header) http.Header {
	ok := true
	for k := range h {
		if http.CanonicalHeaderKey(k) != k {
			ok = false
			break
		}
	}
	if ok {
		return h
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}

// parseCacheControl reads the directives a shared cache obeys. It returns
// false when the response may not be stored (no positive max-age or
// s-maxage, private, no-store, no-cache, with or without a field list),
// and an error for a directive it cannot read.
func parseCacheControl(values []string) (policy, bool, error) {
	var p policy
	var haveShared bool
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			name, arg, hasArg := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			secs := func() (time.Duration, error) {
				n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(arg), `"`))
				if !hasArg || err != nil || n < 0 {
					return 0, fmt.Errorf("malformed Cache-Control %q: %s wants seconds", v, name)
				}
				return time.Duration(n) * time.Second, nil
			}
			switch name {
			case "private", "no-store", "no-cache":
				return p, false, nil
			case "public":
				p.public = true
			case "max-age":
				d, err := secs()
				if err != nil {
					return p, false, err
				}
				if !haveShared {
					p.maxAge = d
				}
			case "s-maxage":
				d, err := secs()
				if err != nil {
					return p, false, err
				}
				p.maxAge, haveShared = d, true
			case "stale-while-revalidate":
				d, err := secs()
				if err != nil {
					return p, false, err
				}
				p.swr = d
			}
		}
	}
	return p, p.maxAge > 0, nil
}
