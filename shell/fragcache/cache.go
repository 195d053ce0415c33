package fragcache

import (
	"container/list"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/collage-dev/collage/shell/compose"
)

// cache holds fragments by key, least recently used first out once the
// bodies pass maxBytes.
type cache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	lru      *list.List // of *entry, most recent at the front
	entries  map[string]*list.Element
	vary     map[string][]string // base key → header names the fragment varies on
}

type entry struct {
	key    string
	status int
	header http.Header
	body   []byte
	fresh  time.Time // served as is until then
	stale  time.Time // served while revalidating until then
}

func newCache(maxBytes int64) *cache {
	return &cache{maxBytes: maxBytes, lru: list.New(), entries: map[string]*list.Element{}, vary: map[string][]string{}}
}

func fullKey(base string, names []string, h http.Header) string {
	if len(names) == 0 {
		return base
	}
	var b strings.Builder
	b.WriteString(base)
	for _, n := range names {
		b.WriteString("\x00")
		b.WriteString(strings.Join(h.Values(n), ","))
	}
	return b.String()
}

// get returns the entry for the request, and whether it is fresh; nil when
// there is none usable at now.
func (c *cache) get(base string, h http.Header, now time.Time) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	names, ok := c.vary[base]
	if !ok {
		return nil, false
	}
	el := c.entries[fullKey(base, names, h)]
	if el == nil {
		return nil, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.stale) {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e, now.Before(e.fresh)
}

// put stores res if its Cache-Control lets a shared cache keep it. It
// returns an error only for a Cache-Control it cannot read.
func (c *cache) put(base string, h http.Header, res *compose.Result, now time.Time) error {
	if res.Err != nil || res.Status != http.StatusOK || res.Header == nil {
		return nil
	}
	policy, ok, err := parseCacheControl(res.Header.Values("Cache-Control"))
	if err != nil || !ok || len(res.Header.Values("Set-Cookie")) > 0 {
		return err
	}
	var names []string
	for _, v := range res.Header.Values("Vary") {
		for _, n := range strings.Split(v, ",") {
			if n = http.CanonicalHeaderKey(strings.TrimSpace(n)); n == "*" {
				return nil
			} else if n != "" {
				names = append(names, n)
			}
		}
	}
	size := int64(len(res.Body))
	if size > c.maxBytes/8 {
		return nil // one fragment may not crowd out the rest
	}
	res.Keep() // the entry outlives the page
	e := &entry{status: res.Status, header: res.Header, body: res.Body,
		fresh: now.Add(policy.maxAge), stale: now.Add(policy.maxAge + policy.swr)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vary[base] = names
	e.key = fullKey(base, names, h)
	if old := c.entries[e.key]; old != nil {
		c.remove(old)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
	return nil
}

func (c *cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.entries, e.key)
	c.bytes -= int64(len(e.body))
}

type policy struct {
	maxAge, swr time.Duration
}

// parseCacheControl reads the directives a shared cache obeys. It returns
// false when the response may not be stored (no max-age, private, no-store,
// no-cache), and an error for a directive it cannot read.
func parseCacheControl(values []string) (policy, bool, error) {
	var p policy
	var haveMaxAge, haveShared bool
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			name, arg, hasArg := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.ToLower(name)
			secs := func() (time.Duration, bool) {
				n, err := strconv.Atoi(strings.Trim(arg, `"`))
				if !hasArg || err != nil || n < 0 {
					return 0, false
				}
				return time.Duration(n) * time.Second, true
			}
			switch name {
			case "":
			case "private", "no-store", "no-cache":
				return p, false, nil
			case "max-age":
				d, ok := secs()
				if !ok {
					return p, false, fmt.Errorf("malformed Cache-Control %q", v)
				}
				if !haveShared {
					p.maxAge, haveMaxAge = d, true
				}
			case "s-maxage":
				d, ok := secs()
				if !ok {
					return p, false, fmt.Errorf("malformed Cache-Control %q", v)
				}
				p.maxAge, haveMaxAge, haveShared = d, true, true
			case "stale-while-revalidate":
				d, ok := secs()
				if !ok {
					return p, false, fmt.Errorf("malformed Cache-Control %q", v)
				}
				p.swr = d
			}
		}
	}
	return p, haveMaxAge && p.maxAge > 0, nil
}
