package cache

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
)

// Keys are built of length-prefixed fields ("5:alice"), so that no choice
// of path, query or header value can make two different requests' keys
// equal.

// baseKey names a fragment: frontend, slot, page path and query, params.
func baseKey(slot *layout.Slot, req *compose.Request) string {
	var b strings.Builder
	b.Grow(len(slot.Frontend) + len(req.Versions[slot.Frontend]) + len(slot.Name) + len(req.Path) + len(req.Params) + 16)
	field(&b, slot.Frontend)
	field(&b, req.Versions[slot.Frontend])
	field(&b, slot.Name)
	field(&b, req.Path)
	field(&b, req.Params)
	return b.String()
}

// fullKey is base with the names a fragment varies on and the request's
// values of them: the entry the request may get.
func fullKey(base string, names []string, h http.Header) string {
	if len(names) == 0 {
		return base
	}
	var b strings.Builder
	b.Grow(len(base) + 64)
	b.WriteString(base)
	for _, n := range names {
		field(&b, n)
		values(&b, h[n])
	}
	return b.String()
}

// headerKey is base with every forwarded header that may change a response,
// which all requests collapsed into one fetch must share.
func headerKey(base string, h http.Header) string {
	names := make([]string, 0, len(h))
	for k := range h {
		if k != "X-Request-Id" && k != "Traceparent" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(base)
	for _, k := range names {
		field(&b, k)
		values(&b, h[k])
	}
	return b.String()
}

// values writes how many values there are, then each as a field.
func values(b *strings.Builder, vs []string) {
	b.WriteString(strconv.Itoa(len(vs)))
	b.WriteByte('#')
	for _, v := range vs {
		field(b, v)
	}
}

// field writes s after its length.
func field(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}
