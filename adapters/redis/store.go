package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/registry"
)

// DefaultPrefix begins the keys of a Store given no prefix. The part in
// braces is a hash tag: Redis Cluster puts keys of the same tag in one
// slot, which a transaction over several keys needs, so a prefix of
// your own should have one too ("{shop}:").
const DefaultPrefix = "{collage}:"

// maxTries bounds how often a change runs again when others committed
// between its reads and its writes.
const maxTries = 20

// Store is a registry.Store in Redis, which replicas share. Its keys,
// after the prefix:
//
//	revision     string: the revision of the last change
//	frontends    hash: name → FrontendState (JSON)
//	releases     hash: "name/label" → Release (JSON)
//	history      stream: an entry of ID "revision-n" per change, whose field "change" is the Change (JSON)
//	tokens       hash: ID → Token (JSON)
//	tokenhashes  hash: Token.Hash → ID
//
// and every change publishes its revision on the channel prefix+"changes".
//
// A change runs its rule of package registry with reads that go to Redis
// after a WATCH of the revision and writes held back, then writes them in
// one MULTI/EXEC that also sets the revision and, last, PUBLISHes it: a
// writer that dies after its EXEC cannot leave the change untold. When
// another change committed in between, EXEC does nothing and the rule
// runs again, up to 20 times, after which the change is a conflict. A rule
// that changes nothing or refuses also ends in an EXEC, of a read, so that
// its answer too holds at one revision. Token changes work the same way,
// watching their two keys instead of the revision, which they do not move.
type Store struct {
	rdb  goredis.UniversalClient
	addr string
	keys keys
}

// keys are the names of a Store's keys and channel.
type keys struct {
	revision, frontends, releases, history, tokens, hashes, changes string
	counts                                                          string // the prefix of Counters' keys
}

// NewStore returns the store whose keys begin with prefix, in the Redis
// rdb talks to. prefix: Optional. Default: DefaultPrefix.
func NewStore(rdb goredis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{rdb: rdb, addr: addrOf(rdb), keys: keys{
		revision:  prefix + "revision",
		frontends: prefix + "frontends",
		releases:  prefix + "releases",
		history:   prefix + "history",
		tokens:    prefix + "tokens",
		hashes:    prefix + "tokenhashes",
		changes:   prefix + "changes",
		counts:    prefix + "counts:",
	}}
}

// Close implements registry.Store. It leaves the client open: the caller
// made it, and may share it with Blobs.
func (s *Store) Close() error { return nil }

func (s *Store) fail(ctx context.Context, err error) error {
	return failure(ctx, "the registry's store", s.addr, err)
}

// A pending transaction has read through the connection that watches its
// keys and holds back its writes.
type pending interface {
	// broken returns the first error of a read that Redis did not answer.
	broken() error
	// queue adds the writes to p, and reports whether there were any.
	queue(ctx context.Context, p goredis.Pipeliner) bool
}

// transact runs attempt after a WATCH of the keys watch, then commits its
// writes, or checks its reads, in one MULTI/EXEC; it runs attempt again
// while another client changed a watched key in between. It returns the
// error of attempt's rule.
func (s *Store) transact(ctx context.Context, watch []string, attempt func(rtx *goredis.Tx) (pending, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for try := range maxTries {
		if try > 0 {
			// Apart, so that writers who collided do not collide again.
			if err := sleep(ctx, rand.N(time.Duration(try)*time.Millisecond)); err != nil {
				return err
			}
		}
		var ruleErr error
		err := s.rdb.Watch(ctx, func(rtx *goredis.Tx) error {
			tx, err := attempt(rtx)
			if broken := tx.broken(); broken != nil {
				return broken
			}
			ruleErr = err
			_, err = rtx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				if ruleErr != nil || !tx.queue(ctx, p) {
					// Nothing to write: the EXEC fails when what the rule
					// read moved meanwhile.
					p.Exists(ctx, watch[0])
				}
				return nil
			})
			return err
		}, watch...)
		if errors.Is(err, goredis.TxFailedErr) {
			continue
		}
		if err != nil {
			return s.fail(ctx, err)
		}
		return ruleErr
	}
	return &bff.Error{Code: "conflict", Message: fmt.Sprintf("the registry's store (Redis at %s): other changes committed while this one ran, %d times over: try again", s.addr, maxTries)}
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// update runs fn in one transaction over the registry, committed when fn
// returns no error.
func (s *Store) update(ctx context.Context, fn func(registry.Tx) error) error {
	return s.transact(ctx, []string{s.keys.revision}, func(rtx *goredis.Tx) (pending, error) {
		tx := &txn{reader: reader{ctx: ctx, rtx: rtx}, keys: &s.keys, frontends: map[string][]byte{}, releases: map[string][]byte{}}
		return tx, fn(tx)
	})
}

// updateTokens runs fn in one transaction over the tokens.
func (s *Store) updateTokens(ctx context.Context, fn func(registry.TokenTx) error) error {
	return s.transact(ctx, []string{s.keys.tokens, s.keys.hashes}, func(rtx *goredis.Tx) (pending, error) {
		tx := &tokenTxn{reader: reader{ctx: ctx, rtx: rtx}, keys: &s.keys, tokens: map[string][]byte{}, hashes: map[string]string{}}
		return tx, fn(tx)
	})
}

// Publish implements registry.Store.
func (s *Store) Publish(ctx context.Context, r *registry.Release) (out *registry.Release, created bool, err error) {
	err = s.update(ctx, func(tx registry.Tx) error {
		out, created, err = registry.ApplyPublish(tx, r, time.Now())
		return err
	})
	return out, created, err
}

// Promote implements registry.Store.
func (s *Store) Promote(ctx context.Context, m registry.Move) (c registry.Change, err error) {
	err = s.update(ctx, func(tx registry.Tx) error {
		c, err = registry.ApplyPromote(tx, m, time.Now())
		return err
	})
	return c, err
}

// Rollback implements registry.Store.
func (s *Store) Rollback(ctx context.Context, m registry.Move) (c registry.Change, err error) {
	err = s.update(ctx, func(tx registry.Tx) error {
		c, err = registry.ApplyRollback(tx, m, time.Now())
		return err
	})
	return c, err
}

// RollbackAll implements registry.Store.
func (s *Store) RollbackAll(ctx context.Context, to time.Time, by string) (cs []registry.Change, err error) {
	err = s.update(ctx, func(tx registry.Tx) error {
		cs, err = registry.ApplyRollbackAll(tx, to, by, time.Now())
		return err
	})
	return cs, err
}

// Yank implements registry.Store.
func (s *Store) Yank(ctx context.Context, frontend, label, by string) (c registry.Change, err error) {
	err = s.update(ctx, func(tx registry.Tx) error {
		c, err = registry.ApplyYank(tx, frontend, label, by, time.Now())
		return err
	})
	return c, err
}

// List implements registry.Store.
func (s *Store) List(ctx context.Context, frontend string) (f *registry.FrontendState, rs []*registry.Release, err error) {
	err = s.update(ctx, func(tx registry.Tx) error {
		f, rs, err = registry.ApplyList(tx, frontend)
		return err
	})
	return f, rs, err
}

// History implements registry.Store.
func (s *Store) History(ctx context.Context, since uint64) ([]registry.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := s.rdb.XRange(ctx, s.keys.history, strconv.FormatUint(since+1, 10)+"-0", "+").Result()
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	cs := make([]registry.Change, 0, len(entries))
	for _, e := range entries {
		var c registry.Change
		data, _ := e.Values["change"].(string)
		if err := decode([]byte(data), &c, "history entry "+e.ID); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// Load implements registry.Store: one MULTI/EXEC reads the revision, the
// frontends and the releases, so they are of one revision.
func (s *Store) Load(ctx context.Context) (*registry.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rev *goredis.StringCmd
	var frontends, releases *goredis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		rev = p.Get(ctx, s.keys.revision)
		frontends = p.HGetAll(ctx, s.keys.frontends)
		releases = p.HGetAll(ctx, s.keys.releases)
		return nil
	})
	if err != nil {
		// A store with no revision yet answers the GET with nil, which is
		// no failure.
		for _, cmd := range []goredis.Cmder{rev, frontends, releases} {
			if err := cmd.Err(); err != nil && !errors.Is(err, goredis.Nil) {
				return nil, s.fail(ctx, err)
			}
		}
		if !errors.Is(err, goredis.Nil) {
			return nil, s.fail(ctx, err)
		}
	}
	st := &registry.State{Frontends: map[string]*registry.FrontendState{}, Releases: map[string]map[string]*registry.Release{}}
	if v, err := rev.Result(); err == nil {
		if st.Revision, err = parseRevision(v); err != nil {
			return nil, err
		}
	}
	for name, data := range frontends.Val() {
		var f registry.FrontendState
		if err := decode([]byte(data), &f, "frontend "+name); err != nil {
			return nil, err
		}
		st.Frontends[name] = &f
	}
	for field, data := range releases.Val() {
		var r registry.Release
		if err := decode([]byte(data), &r, "release "+field); err != nil {
			return nil, err
		}
		if st.Releases[r.Frontend] == nil {
			st.Releases[r.Frontend] = map[string]*registry.Release{}
		}
		st.Releases[r.Frontend][r.Label] = &r
	}
	return st, nil
}

// Revision implements registry.Store.
func (s *Store) Revision(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v, err := s.rdb.Get(ctx, s.keys.revision).Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail(ctx, err)
	}
	return parseRevision(v)
}

// parseRevision reads the value of the revision key.
func parseRevision(v string) (uint64, error) {
	rev, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("registry store: the revision is %q, not a number", v)
	}
	return rev, nil
}

// PutToken implements registry.Store.
func (s *Store) PutToken(ctx context.Context, t *registry.Token) error {
	return s.updateTokens(ctx, func(tx registry.TokenTx) error { return registry.ApplyPutToken(tx, t) })
}

// TokenByHash implements registry.Store.
func (s *Store) TokenByHash(ctx context.Context, hash string) (t *registry.Token, err error) {
	err = s.updateTokens(ctx, func(tx registry.TokenTx) error {
		t, err = registry.ApplyTokenByHash(tx, hash)
		return err
	})
	return t, err
}

// Tokens implements registry.Store.
func (s *Store) Tokens(ctx context.Context) ([]*registry.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	all, err := s.rdb.HGetAll(ctx, s.keys.tokens).Result()
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	ts := make([]*registry.Token, 0, len(all))
	for id, data := range all {
		var t registry.Token
		if err := decode([]byte(data), &t, "token "+id); err != nil {
			return nil, err
		}
		ts = append(ts, &t)
	}
	slices.SortFunc(ts, func(a, b *registry.Token) int { return cmp.Compare(a.ID, b.ID) })
	return ts, nil
}

// RevokeToken implements registry.Store.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	return s.updateTokens(ctx, func(tx registry.TokenTx) error { return registry.ApplyRevokeToken(tx, id) })
}

func decode(data []byte, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("registry store: %s: %w", what, err)
	}
	return nil
}

// reader reads for a transaction through the connection that watches its
// keys, and keeps the first error Redis gave.
type reader struct {
	ctx context.Context
	rtx *goredis.Tx
	err error
}

func (r *reader) broken() error { return r.err }

// check notes err, an error of a command to Redis.
func (r *reader) check(err error) error {
	if err != nil && r.err == nil {
		r.err = err
	}
	return err
}

// hget returns a field of a hash, nil when there is none.
func (r *reader) hget(key, field string) ([]byte, error) {
	data, err := r.rtx.HGet(r.ctx, key, field).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	return data, r.check(err)
}

// txn is a registry.Tx over a Store: it reads through its own writes,
// which it holds back until the EXEC.
type txn struct {
	reader
	keys         *keys
	revision     uint64
	revisionRead bool // revision holds the store's, or the one set
	revisionSet  bool
	frontends    map[string][]byte // name → FrontendState
	releases     map[string][]byte // "name/label" → Release
	log          [][]byte          // Changes of revision
}

func (t *txn) Revision() (uint64, error) {
	if !t.revisionRead {
		v, err := t.rtx.Get(t.ctx, t.keys.revision).Result()
		switch {
		case errors.Is(err, goredis.Nil):
		case err != nil:
			return 0, t.check(err)
		default:
			if t.revision, err = parseRevision(v); err != nil {
				return 0, err
			}
		}
		t.revisionRead = true
	}
	return t.revision, nil
}

func (t *txn) SetRevision(rev uint64) error {
	t.revision, t.revisionRead, t.revisionSet = rev, true, true
	return nil
}

func (t *txn) Frontends() ([]string, error) {
	names, err := t.rtx.HKeys(t.ctx, t.keys.frontends).Result()
	if err != nil {
		return nil, t.check(err)
	}
	for name := range t.frontends {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

func (t *txn) Frontend(name string) (*registry.FrontendState, error) {
	data, ok := t.frontends[name]
	if !ok {
		var err error
		if data, err = t.hget(t.keys.frontends, name); err != nil || data == nil {
			return nil, err
		}
	}
	var f registry.FrontendState
	return &f, decode(data, &f, "frontend "+name)
}

func (t *txn) PutFrontend(f *registry.FrontendState) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	t.frontends[f.Name] = data
	return nil
}

func (t *txn) Release(frontend, label string) (*registry.Release, error) {
	field := frontend + "/" + label
	data, ok := t.releases[field]
	if !ok {
		var err error
		if data, err = t.hget(t.keys.releases, field); err != nil || data == nil {
			return nil, err
		}
	}
	var r registry.Release
	return &r, decode(data, &r, "release "+field)
}

func (t *txn) PutRelease(r *registry.Release) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	t.releases[r.Frontend+"/"+r.Label] = data
	return nil
}

func (t *txn) Log(c registry.Change) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	t.log = append(t.log, data)
	return nil
}

func (t *txn) queue(ctx context.Context, p goredis.Pipeliner) bool {
	if !t.revisionSet && len(t.frontends) == 0 && len(t.releases) == 0 && len(t.log) == 0 {
		return false
	}
	if t.revisionSet {
		p.Set(ctx, t.keys.revision, t.revision, 0)
	}
	writeHash(ctx, p, t.keys.frontends, t.frontends, nil)
	writeHash(ctx, p, t.keys.releases, t.releases, nil)
	for i, data := range t.log {
		// Every change of a transaction is of its revision.
		p.XAdd(ctx, &goredis.XAddArgs{Stream: t.keys.history, ID: fmt.Sprintf("%d-%d", t.revision, i), Values: []any{"change", data}})
	}
	if t.revisionSet {
		p.Publish(ctx, t.keys.changes, t.revision)
	}
	return true
}

// writeHash queues the writes of m to the hash key: the fields whose
// value gone reports are deleted, the others set.
func writeHash[V any](ctx context.Context, p goredis.Pipeliner, key string, m map[string]V, gone func(V) bool) {
	var set []any
	var del []string
	for field, v := range m {
		if gone != nil && gone(v) {
			del = append(del, field)
		} else {
			set = append(set, field, v)
		}
	}
	if len(del) > 0 {
		p.HDel(ctx, key, del...)
	}
	if len(set) > 0 {
		p.HSet(ctx, key, set...)
	}
}

// tokenTxn is a registry.TokenTx over a Store: it reads through its own
// writes, which it holds back until the EXEC.
type tokenTxn struct {
	reader
	keys   *keys
	tokens map[string][]byte // ID → Token, nil when deleted
	hashes map[string]string // Token.Hash → ID, "" when deleted
}

func (t *tokenTxn) Token(id string) (*registry.Token, error) {
	data, ok := t.tokens[id]
	if !ok {
		var err error
		if data, err = t.hget(t.keys.tokens, id); err != nil {
			return nil, err
		}
	}
	if data == nil {
		return nil, nil
	}
	var tok registry.Token
	return &tok, decode(data, &tok, "token "+id)
}

func (t *tokenTxn) TokenByHash(hash string) (*registry.Token, error) {
	id, ok := t.hashes[hash]
	if !ok {
		data, err := t.hget(t.keys.hashes, hash)
		if err != nil {
			return nil, err
		}
		id = string(data)
	}
	if id == "" {
		return nil, nil
	}
	tok, err := t.Token(id)
	if err == nil && (tok == nil || tok.Hash != hash) {
		err = fmt.Errorf("registry store: the hash index names token %s, which does not have that hash", id)
	}
	return tok, err
}

func (t *tokenTxn) PutToken(tok, old *registry.Token) error {
	data, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	if old != nil {
		t.hashes[old.Hash] = ""
	}
	t.tokens[tok.ID] = data
	t.hashes[tok.Hash] = tok.ID
	return nil
}

func (t *tokenTxn) DeleteToken(tok *registry.Token) error {
	t.tokens[tok.ID] = nil
	t.hashes[tok.Hash] = ""
	return nil
}

func (t *tokenTxn) queue(ctx context.Context, p goredis.Pipeliner) bool {
	writeHash(ctx, p, t.keys.tokens, t.tokens, func(data []byte) bool { return data == nil })
	writeHash(ctx, p, t.keys.hashes, t.hashes, func(id string) bool { return id == "" })
	return len(t.tokens)+len(t.hashes) > 0
}

var (
	_ registry.Store   = (*Store)(nil)
	_ registry.Watcher = (*Store)(nil)
	_ registry.Tx      = (*txn)(nil)
	_ registry.TokenTx = (*tokenTxn)(nil)
	_ pending          = (*txn)(nil)
	_ pending          = (*tokenTxn)(nil)
)
