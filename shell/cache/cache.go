package cache

import (
	"container/list"
	"net/http"
	"sync"
	"time"

	"github.com/collage-dev/collage/shell/compose"
)

// entryOverhead is what an entry costs besides its key, header and body:
// the entry, its list element, its map slots and its share of the index,
// rounded up.
const entryOverhead = 512

// cache holds fragments by key, least recently used first out once the
// entries pass maxEntries or their size passes maxBytes.
type cache struct {
	mu         sync.Mutex
	maxBytes   int64
	maxEntries int
	bytes      int64      // sum of the entries' sizes
	lru        *list.List // of *entry, most recent at the front
	entries    map[string]*list.Element
	// index tells, per base key, what the latest stored fragment varies on:
	// the names a lookup puts in the full key. It has an element only while
	// an entry of that base is stored, so it is never larger than entries.
	index map[string]*variants
}

type variants struct {
	names []string // never changed in place: replaced
	n     int      // entries of this base, whatever names they vary on
}

type entry struct {
	key, base string
	size      int64
	status    int
	header    http.Header
	body      []byte
	public    bool
	vary      []string  // the names the key holds the values of
	fresh     time.Time // served as is until then
	stale     time.Time // served while revalidating until then
}

func newCache(maxBytes int64, maxEntries int) *cache {
	return &cache{maxBytes: maxBytes, maxEntries: maxEntries, lru: list.New(),
		entries: map[string]*list.Element{}, index: map[string]*variants{}}
}

// get returns the entry a request with header h, which carried the
// credential headers creds, may get, and whether it is fresh; nil when
// there is none usable at now.
func (c *cache) get(base string, h http.Header, creds []string, now time.Time) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ix := c.index[base]
	if ix == nil {
		return nil, false
	}
	el := c.entries[fullKey(base, ix.names, h)]
	if el == nil {
		return nil, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.stale) {
		c.remove(el)
		return nil, false
	}
	if !shareable(e.public, e.vary, creds) {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e, now.Before(e.fresh)
}

// put stores res, fetched for a request with header h that carried the
// credential headers creds, if its Cache-Control lets a shared cache keep
// it and it may be shared with every request whose key matches. It returns
// an error only for a Cache-Control it cannot read.
func (c *cache) put(base string, h http.Header, creds []string, res *compose.Result, now time.Time) error {
	if res.Err != nil || res.Status != http.StatusOK || res.Header == nil {
		return nil
	}
	p, ok, err := readPolicy(res.Header)
	if err != nil || !ok || !shareable(p.public, p.vary, creds) {
		return err
	}
	key := fullKey(base, p.vary, h)
	size := int64(entryOverhead + len(key) + len(base) + headerSize(res.Header) + len(res.Body))
	for _, n := range p.vary {
		size += int64(len(n))
	}
	if size > c.maxBytes/8 {
		return nil // one fragment may not crowd out the rest
	}
	res.Keep() // the entry outlives the page
	e := &entry{key: key, base: base, size: size, status: res.Status, header: res.Header, body: res.Body,
		public: p.public, vary: p.vary, fresh: now.Add(p.maxAge), stale: now.Add(p.maxAge + p.swr)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[key]; old != nil {
		c.remove(old)
	}
	ix := c.index[base]
	if ix == nil {
		ix = &variants{}
		c.index[base] = ix
	}
	ix.names = p.vary
	ix.n++
	c.entries[key] = c.lru.PushFront(e)
	c.bytes += size
	for c.bytes > c.maxBytes || c.lru.Len() > c.maxEntries {
		c.remove(c.lru.Back())
	}
	return nil
}

// remove drops an entry, and its base from the index with its last entry.
func (c *cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.entries, e.key)
	c.bytes -= e.size
	if ix := c.index[e.base]; ix != nil {
		if ix.n--; ix.n == 0 {
			delete(c.index, e.base)
		}
	}
}

// headerSize is about what h holds: its names and values, and a slice or
// string header for each.
func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		n += 48 + len(k)
		for _, v := range vs {
			n += 16 + len(v)
		}
	}
	return n
}
