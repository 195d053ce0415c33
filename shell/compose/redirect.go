package compose

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// A LocationError is a primary slot's redirect the page refuses to pass
// on: its Location is neither a path on the page's site nor on an origin
// allowed (Render.Redirects).
type LocationError struct {
	Location string
	Reason   string
}

func (e *LocationError) Error() string {
	return fmt.Sprintf("redirect refused: Location %q %s", e.Location, e.Reason)
}

// checkLocation says why a primary slot's Location may not be the page's,
// or returns nil. A path (one leading /) is always allowed, an absolute
// http(s) URL only on the page's own origin or an allowed one: anything
// else, such as //host/, /\host/ or javascript:, would send the browser
// where the slot's team does not decide.
func (r *Render) checkLocation(loc string) error {
	refuse := func(format string, args ...any) error {
		return &LocationError{Location: loc, Reason: fmt.Sprintf(format, args...)}
	}
	for i := 0; i < len(loc); i++ {
		// Browsers drop tabs and newlines from URLs: /\t/host is //host.
		if c := loc[i]; c < 0x20 || c == 0x7f {
			return refuse("holds a control character")
		}
	}
	if strings.HasPrefix(loc, "/") {
		if len(loc) > 1 && (loc[1] == '/' || loc[1] == '\\') {
			return refuse("starts with %s, which browsers read as another host", loc[:2])
		}
		return nil
	}
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return refuse("is neither a path starting with / nor an http or https URL")
	}
	// Browsers read a backslash as a slash, and user info as no part of
	// the host, where a parser may not: neither has a use in a redirect.
	if strings.Contains(loc, `\`) || u.User != nil {
		return refuse("holds a backslash or user info")
	}
	o := origin(u)
	if own, err := ParseOrigin(r.req.Origin); err == nil && own == o {
		return nil
	}
	if slices.Contains(r.Redirects, o) {
		return nil
	}
	return refuse("is on %s, neither the page's origin nor an allowed one", o)
}

// ParseOrigin reads an origin, scheme://host[:port] with the scheme http or
// https, and returns it as the composer compares origins: lower case,
// without the scheme's default port.
func ParseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("origin %q: %w", s, errors.Unwrap(err))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return "", fmt.Errorf("origin %q: write scheme://host[:port], with http or https", s)
	case u.User != nil, u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.ForceQuery, strings.Contains(s, `\`):
		return "", fmt.Errorf("origin %q: an origin is scheme://host[:port] alone, with no user, path, query or fragment", s)
	}
	return origin(u), nil
}

// origin is u's scheme://host[:port], lower case, without the scheme's
// default port.
func origin(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(u.Scheme == "https" && port == "443") && !(u.Scheme == "http" && port == "80") {
		host += ":" + port
	}
	return u.Scheme + "://" + host
}
