package component

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"

	"golang.org/x/sync/singleflight"
)

// DefaultCacheBytes bounds a Cache made with a bound of 0.
const DefaultCacheBytes = 16 << 20

// Cache keeps rendered HTML by server bundle version and data, for
// fragments whose data many requests share (a catalog, recommendations):
// the same data renders the same HTML, so a hit costs a hash and a map
// look-up instead of a render. Renders of a missing key run once however
// many requests want it at the same time. The least recently used entries
// go once the HTML kept passes the bound. Per-user fragments, whose data
// is rarely seen twice, should not go through it. It is safe for
// concurrent use.
type Cache struct {
	max    int64
	flight singleflight.Group

	mu    sync.Mutex
	size  int64
	lru   *list.List // of *entry, most recent first
	byKey map[key]*list.Element
}

type key struct {
	version string
	sum     [sha256.Size]byte
}

type entry struct {
	key  key
	html []byte
}

// NewCache returns a cache that keeps at most maxBytes of HTML (0:
// DefaultCacheBytes).
func NewCache(maxBytes int64) *Cache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &Cache{max: maxBytes, lru: list.New(), byKey: map[key]*list.Element{}}
}

// Renderer returns r, the renderer of the server bundle version, with its
// renders kept in c. The HTML it returns is shared: read it, never change it.
func (c *Cache) Renderer(version string, r Renderer) Renderer {
	return &cached{c: c, version: version, next: r}
}

// Len returns the number of renders kept.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

type cached struct {
	c       *Cache
	version string
	next    Renderer
}

func (r *cached) Render(ctx context.Context, data []byte) ([]byte, error) {
	k := key{version: r.version, sum: sha256.Sum256(data)}
	if html, ok := r.c.get(k); ok {
		return html, nil
	}
	ch := r.c.flight.DoChan(string(k.sum[:])+r.version, func() (any, error) {
		// The first caller's deadline bounds the render that the others
		// wait for; each stops waiting at its own.
		html, err := r.next.Render(ctx, data)
		if err == nil {
			r.c.put(k, html)
		}
		return html, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Cache) get(k key) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*entry).html, true
}

func (c *Cache) put(k key, html []byte) {
	n := int64(len(html))
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok {
		return
	}
	c.byKey[k] = c.lru.PushFront(&entry{key: k, html: html})
	c.size += n
	for c.size > c.max {
		el := c.lru.Back()
		e := el.Value.(*entry)
		c.lru.Remove(el)
		delete(c.byKey, e.key)
		c.size -= int64(len(e.html))
	}
}
