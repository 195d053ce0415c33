package bff

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMemStateMaxKeys is the default of MemState.MaxKeys.
const DefaultMemStateMaxKeys = 100_000

// sweepBatch bounds the expired keys a call removes besides its own, so
// that expiry costs each call little and memory does not hold what
// nobody reads.
const sweepBatch = 16

// MemState is a StateStore in the memory of this process: the store of
// collage dev, of tests, and of a BFF that runs as one process. It is
// lost on restart and shared with no other process. The zero value is
// ready to use; set its fields before its first use.
type MemState struct {
	// MaxKeys bounds the keys of each namespace, so that a flood of new
	// keys cannot take all memory. A new key in a full namespace drops
	// the key that expires soonest (Redis's volatile-ttl policy); when no
	// key there expires, writing a new one fails.
	// Optional. Default: DefaultMemStateMaxKeys; zero or less means the default.
	MaxKeys int

	// Now tells the time that values expire by.
	// Optional. Default: time.Now.
	Now func() time.Time

	mu     sync.Mutex
	spaces map[string]*memSpace
}

// NewMemState returns an empty MemState.
func NewMemState() *MemState { return &MemState{} }

// Namespace implements StateStore.
func (m *MemState) Namespace(name string) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spaces == nil {
		m.spaces = map[string]*memSpace{}
	}
	sp := m.spaces[name]
	if sp == nil {
		sp = &memSpace{m: m, name: name, items: map[string]*memItem{}}
		m.spaces[name] = sp
	}
	return sp
}

func (m *MemState) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *MemState) maxKeys() int {
	if m.MaxKeys > 0 {
		return m.MaxKeys
	}
	return DefaultMemStateMaxKeys
}

// memSpace is the State of one namespace: its values by key, and those
// that expire in a heap, the soonest first. One lock guards both.
type memSpace struct {
	m        *MemState
	name     string
	mu       sync.Mutex
	items    map[string]*memItem
	expiring expiryHeap
}

type memItem struct {
	key     string
	value   []byte
	expires time.Time // zero: never
	index   int       // in expiring, -1 when it never expires
}

func (it *memItem) expired(now time.Time) bool {
	return !it.expires.IsZero() && !now.Before(it.expires)
}

func (s *memSpace) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.liveLocked(key, s.m.now())
	if it == nil {
		return nil, false, nil
	}
	return clone(it.value), true, nil
}

func (s *memSpace) Touch(_ context.Context, key string, ttl time.Duration) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.m.now()
	it := s.liveLocked(key, now)
	if it == nil {
		return nil, false, nil
	}
	s.expireLocked(it, ttl, now)
	return clone(it.value), true, nil
}

func (s *memSpace) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.m.now()
	return s.setLocked(s.liveLocked(key, now), key, clone(value), ttl, now)
}

func (s *memSpace) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.liveLocked(key, s.m.now()); it != nil {
		s.removeLocked(it)
	}
	return nil
}

// Update runs fn under the namespace's lock, so it runs once.
func (s *memSpace) Update(_ context.Context, key string, ttl time.Duration, fn func([]byte, bool) ([]byte, error)) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.m.now()
	it := s.liveLocked(key, now)
	var old []byte
	if it != nil {
		old = clone(it.value)
	}
	value, err := fn(old, it != nil)
	if err != nil {
		return nil, err
	}
	if value == nil {
		if it != nil {
			s.removeLocked(it)
		}
		return nil, nil
	}
	if err := s.setLocked(it, key, clone(value), ttl, now); err != nil {
		return nil, err
	}
	return value, nil
}

// liveLocked returns the item of key, nil when it has none or it has
// expired; on the way it removes up to sweepBatch other expired items.
func (s *memSpace) liveLocked(key string, now time.Time) *memItem {
	for range sweepBatch {
		if len(s.expiring) == 0 || !s.expiring[0].expired(now) {
			break
		}
		s.removeLocked(s.expiring[0])
	}
	it := s.items[key]
	if it != nil && it.expired(now) {
		s.removeLocked(it)
		return nil
	}
	return it
}

// setLocked stores value under key, in it when key has a live item; a
// new key in a full namespace first drops the item that expires soonest.
func (s *memSpace) setLocked(it *memItem, key string, value []byte, ttl time.Duration, now time.Time) error {
	if it == nil {
		if len(s.items) >= s.m.maxKeys() {
			if len(s.expiring) == 0 {
				return fmt.Errorf("bff state: %s holds %d keys in memory, as many as it may, and none of them expires: no room for %.32q",
					s.name, len(s.items), key)
			}
			s.removeLocked(s.expiring[0])
		}
		it = &memItem{key: key, index: -1}
		s.items[key] = it
	}
	it.value = value
	s.expireLocked(it, ttl, now)
	return nil
}

// expireLocked makes it expire ttl after now, or never when ttl is 0.
func (s *memSpace) expireLocked(it *memItem, ttl time.Duration, now time.Time) {
	switch {
	case ttl == 0:
		it.expires = time.Time{}
		if it.index >= 0 {
			heap.Remove(&s.expiring, it.index)
		}
	case it.index >= 0:
		it.expires = now.Add(ttl)
		heap.Fix(&s.expiring, it.index)
	default:
		it.expires = now.Add(ttl)
		heap.Push(&s.expiring, it)
	}
}

func (s *memSpace) removeLocked(it *memItem) {
	delete(s.items, it.key)
	if it.index >= 0 {
		heap.Remove(&s.expiring, it.index)
	}
}

// clone copies b, never to nil: a value that is there is not nil.
func clone(b []byte) []byte { return append([]byte{}, b...) }

// expiryHeap orders items by when they expire, the soonest first.
type expiryHeap []*memItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *expiryHeap) Push(x any) {
	it := x.(*memItem)
	it.index = len(*h)
	*h = append(*h, it)
}

func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	it.index = -1
	*h = old[:len(old)-1]
	return it
}
