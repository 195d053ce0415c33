package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemStore is a Store in memory: the store of `collage dev`, of a shell
// whose state lives elsewhere, and the reference the conformance suite
// runs against. It keeps every value as JSON, as a file store would, so
// what a caller is given never aliases what the store holds. Each change
// runs its rule over a transaction that writes aside and is applied, under
// one lock, only when the rule returns no error.
type MemStore struct {
	mu        sync.RWMutex
	revision  uint64
	frontends map[string][]byte            // name → FrontendState
	releases  map[string]map[string][]byte // frontend → label → Release
	history   []Change                     // oldest first
	tokens    map[string][]byte            // ID → Token
	hashes    map[string]string            // Token.Hash → ID
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{
		frontends: map[string][]byte{},
		releases:  map[string]map[string][]byte{},
		tokens:    map[string][]byte{},
		hashes:    map[string]string{},
	}
}

// update runs fn in one transaction, applied when fn returns no error.
func (s *MemStore) update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{s: s, revision: s.revision, frontends: map[string][]byte{}, releases: map[string]map[string][]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	s.revision = tx.revision
	maps.Copy(s.frontends, tx.frontends)
	for name, rs := range tx.releases {
		if s.releases[name] == nil {
			s.releases[name] = map[string][]byte{}
		}
		maps.Copy(s.releases[name], rs)
	}
	s.history = append(s.history, tx.log...)
	return nil
}

// view runs fn in a transaction that only reads.
func (s *MemStore) view(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&memTx{s: s, revision: s.revision})
}

// Publish implements Store.
func (s *MemStore) Publish(ctx context.Context, r *Release) (out *Release, created bool, err error) {
	err = s.update(ctx, func(tx Tx) error {
		out, created, err = ApplyPublish(tx, r, time.Now())
		return err
	})
	return out, created, err
}

// Promote implements Store.
func (s *MemStore) Promote(ctx context.Context, m Move) (c Change, err error) {
	err = s.update(ctx, func(tx Tx) error {
		c, err = ApplyPromote(tx, m, time.Now())
		return err
	})
	return c, err
}

// Rollback implements Store.
func (s *MemStore) Rollback(ctx context.Context, m Move) (c Change, err error) {
	err = s.update(ctx, func(tx Tx) error {
		c, err = ApplyRollback(tx, m, time.Now())
		return err
	})
	return c, err
}

// RollbackAll implements Store.
func (s *MemStore) RollbackAll(ctx context.Context, to time.Time, by string) (cs []Change, err error) {
	err = s.update(ctx, func(tx Tx) error {
		cs, err = ApplyRollbackAll(tx, to, by, time.Now())
		return err
	})
	return cs, err
}

// Yank implements Store.
func (s *MemStore) Yank(ctx context.Context, frontend, label, by string) (c Change, err error) {
	err = s.update(ctx, func(tx Tx) error {
		c, err = ApplyYank(tx, frontend, label, by, time.Now())
		return err
	})
	return c, err
}

// List implements Store.
func (s *MemStore) List(ctx context.Context, frontend string) (f *FrontendState, rs []*Release, err error) {
	err = s.view(ctx, func(tx Tx) error {
		f, rs, err = ApplyList(tx, frontend)
		return err
	})
	return f, rs, err
}

// History implements Store.
func (s *MemStore) History(ctx context.Context, since uint64) ([]Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Revisions start at 1 and every change logs at least one entry, so
	// the entries after since begin at the first of revision since+1.
	i, _ := slices.BinarySearchFunc(s.history, since+1, func(c Change, rev uint64) int {
		return cmp.Compare(c.Revision, rev)
	})
	return slices.Clone(s.history[i:]), nil
}

// Load implements Store.
func (s *MemStore) Load(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := &State{Revision: s.revision, Frontends: map[string]*FrontendState{}, Releases: map[string]map[string]*Release{}}
	for name, data := range s.frontends {
		var f FrontendState
		if err := decode(data, &f, "frontend "+name); err != nil {
			return nil, err
		}
		st.Frontends[name] = &f
	}
	for name, byLabel := range s.releases {
		rs := make(map[string]*Release, len(byLabel))
		for label, data := range byLabel {
			var r Release
			if err := decode(data, &r, "release "+name+" "+label); err != nil {
				return nil, err
			}
			rs[label] = &r
		}
		st.Releases[name] = rs
	}
	return st, nil
}

// Revision implements Store.
func (s *MemStore) Revision(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.revision, nil
}

// PutToken implements Store.
func (s *MemStore) PutToken(ctx context.Context, t *Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ApplyPutToken(memTokens{s}, t)
}

// TokenByHash implements Store.
func (s *MemStore) TokenByHash(ctx context.Context, hash string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return ApplyTokenByHash(memTokens{s}, hash)
}

// Tokens implements Store.
func (s *MemStore) Tokens(ctx context.Context) ([]*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ts := make([]*Token, 0, len(s.tokens))
	for _, id := range slices.Sorted(maps.Keys(s.tokens)) {
		t, err := memTokens{s}.Token(id)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// RevokeToken implements Store.
func (s *MemStore) RevokeToken(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ApplyRevokeToken(memTokens{s}, id)
}

// Close implements Store: a MemStore holds nothing to release.
func (s *MemStore) Close() error { return nil }

func decode(data []byte, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("registry store: %s: %w", what, err)
	}
	return nil
}

// memTx is a transaction of a MemStore: it reads through its own writes to
// the store's maps, and keeps its writes aside until the store applies
// them. It is used under the store's lock only.
type memTx struct {
	s         *MemStore
	revision  uint64
	frontends map[string][]byte
	releases  map[string]map[string][]byte
	log       []Change
}

func (t *memTx) Revision() (uint64, error) { return t.revision, nil }

func (t *memTx) SetRevision(rev uint64) error {
	t.revision = rev
	return nil
}

func (t *memTx) Frontends() ([]string, error) {
	names := slices.Collect(maps.Keys(t.s.frontends))
	for name := range t.frontends {
		if _, ok := t.s.frontends[name]; !ok {
			names = append(names, name)
		}
	}
	return names, nil
}

func (t *memTx) Frontend(name string) (*FrontendState, error) {
	data, ok := t.frontends[name]
	if !ok {
		if data, ok = t.s.frontends[name]; !ok {
			return nil, nil
		}
	}
	var f FrontendState
	return &f, decode(data, &f, "frontend "+name)
}

func (t *memTx) PutFrontend(f *FrontendState) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	t.frontends[f.Name] = data
	return nil
}

func (t *memTx) Release(frontend, label string) (*Release, error) {
	data, ok := t.releases[frontend][label]
	if !ok {
		if data, ok = t.s.releases[frontend][label]; !ok {
			return nil, nil
		}
	}
	var r Release
	return &r, decode(data, &r, "release "+frontend+" "+label)
}

func (t *memTx) PutRelease(r *Release) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if t.releases[r.Frontend] == nil {
		t.releases[r.Frontend] = map[string][]byte{}
	}
	t.releases[r.Frontend][r.Label] = data
	return nil
}

func (t *memTx) Log(c Change) error {
	t.log = append(t.log, c)
	return nil
}

// memTokens is a TokenTx over a MemStore's tokens, used under its lock.
// Each write changes the maps only once it cannot fail, so a rule's
// refusal leaves them as they were.
type memTokens struct{ s *MemStore }

func (m memTokens) Token(id string) (*Token, error) {
	data, ok := m.s.tokens[id]
	if !ok {
		return nil, nil
	}
	var t Token
	return &t, decode(data, &t, "token "+id)
}

func (m memTokens) TokenByHash(hash string) (*Token, error) {
	id, ok := m.s.hashes[hash]
	if !ok {
		return nil, nil
	}
	return m.Token(id)
}

func (m memTokens) PutToken(t, old *Token) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if old != nil {
		delete(m.s.hashes, old.Hash)
	}
	m.s.tokens[t.ID] = data
	m.s.hashes[t.Hash] = t.ID
	return nil
}

func (m memTokens) DeleteToken(t *Token) error {
	delete(m.s.tokens, t.ID)
	delete(m.s.hashes, t.Hash)
	return nil
}

var (
	_ Store   = (*MemStore)(nil)
	_ Tx      = (*memTx)(nil)
	_ TokenTx = memTokens{}
)
