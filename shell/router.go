package shell

import (
	"fmt"
	"strings"
)

// segment is one segment of a route's pattern: a literal, or a parameter.
type segment struct {
	lit   string
	param bool
}

// parsePattern splits a pattern such as /products/{id} into its segments,
// and names its parameters in order.
func parsePattern(pattern string) (segs []segment, params []string, err error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, nil, fmt.Errorf("route %q must start with /", pattern)
	}
	rest := strings.TrimSuffix(pattern[1:], "/")
	if rest == "" {
		return nil, nil, nil
	}
	for s := range strings.SplitSeq(rest, "/") {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			name, ok = strings.CutSuffix(name, "}")
			if !ok || !isParamName(name) {
				return nil, nil, fmt.Errorf("route %q: segment %q is neither a literal nor a {name} parameter", pattern, s)
			}
			segs = append(segs, segment{param: true})
			params = append(params, name)
			continue
		}
		if strings.ContainsAny(s, "{}") {
			return nil, nil, fmt.Errorf("route %q: segment %q is neither a literal nor a {name} parameter", pattern, s)
		}
		segs = append(segs, segment{lit: s})
	}
	return segs, params, nil
}

func isParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// match returns the first page whose pattern matches path (as sent,
// percent-encoded), with the values of its parameters, still encoded. A
// trailing slash is ignored, and literals match in any case, as fiber's
// router did.
func (s *Shell) match(path string) (*Page, []string, bool) {
	if path == "" || path[0] != '/' {
		return nil, nil, false
	}
	path = strings.TrimSuffix(path[1:], "/")
	for _, p := range s.pages {
		if vals, ok := p.match(path); ok {
			return p, vals, true
		}
	}
	return nil, nil, false
}

// match matches path, without its leading and trailing slash, segment by
// segment.
func (p *Page) match(path string) ([]string, bool) {
	if len(p.segs) == 0 {
		return nil, path == ""
	}
	var vals []string
	for i, seg := range p.segs {
		var s string
		var more bool
		s, path, more = strings.Cut(path, "/")
		if more == (i == len(p.segs)-1) {
			return nil, false // more segments than the pattern, or fewer
		}
		switch {
		case seg.param:
			if s == "" {
				return nil, false
			}
			if vals == nil {
				vals = make([]string, 0, len(p.Params))
			}
			vals = append(vals, s)
		case !strings.EqualFold(s, seg.lit):
			return nil, false
		}
	}
	return vals, true
}

// trimSlash is path without one trailing slash.
func trimSlash(path string) string {
	if len(path) > 1 {
		return strings.TrimSuffix(path, "/")
	}
	return path
}
