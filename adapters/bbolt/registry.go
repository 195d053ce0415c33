package bbolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/collage-dev/collage/shell/registry"
)

// File is the name of the store's file inside its folder.
const File = "registry.db"

var (
	metaBucket      = []byte("meta")      // revision
	frontendsBucket = []byte("frontends") // name → FrontendState
	releasesBucket  = []byte("releases")  // a bucket per frontend: label → Release
	historyBucket   = []byte("history")   // revision, sequence → Change
	tokensBucket    = []byte("tokens")    // ID → Token
	hashesBucket    = []byte("hashes")    // Token.Hash → ID, to find a token by its secret in one lookup
	revisionKey     = []byte("revision")
)

// Store is a registry.Store in one bbolt file.
type Store struct {
	db *bolt.DB
}

// Open opens the store in dir, creating the folder and the file if needed.
// A store another process holds open is an error after a second, not a wait.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, File)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("registry store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{metaBucket, frontendsBucket, releasesBucket, historyBucket, tokensBucket, hashesBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("registry store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close implements registry.Store.
func (s *Store) Close() error { return s.db.Close() }

// update runs fn in one read-write transaction, committed when fn returns
// no error.
func (s *Store) update(ctx context.Context, fn func(registry.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return fn(&txn{tx: tx}) })
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
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		f, rs, err = registry.ApplyList(&txn{tx: tx}, frontend)
		return err
	})
	return f, rs, err
}

// History implements registry.Store.
func (s *Store) History(ctx context.Context, since uint64) ([]registry.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var cs []registry.Change
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(historyBucket).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, since+1)); k != nil; k, v = c.Next() {
			var ch registry.Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("history entry %x: %w", k, err)
			}
			cs = append(cs, ch)
		}
		return nil
	})
	return cs, err
}

// Load implements registry.Store.
func (s *Store) Load(ctx context.Context) (*registry.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := &registry.State{Frontends: map[string]*registry.FrontendState{}, Releases: map[string]map[string]*registry.Release{}}
	err := s.db.View(func(btx *bolt.Tx) error {
		tx := &txn{tx: btx}
		var err error
		if st.Revision, err = tx.Revision(); err != nil {
			return err
		}
		err = btx.Bucket(frontendsBucket).ForEach(func(k, v []byte) error {
			var f registry.FrontendState
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("frontend %s: %w", k, err)
			}
			st.Frontends[f.Name] = &f
			return nil
		})
		if err != nil {
			return err
		}
		return btx.Bucket(releasesBucket).ForEachBucket(func(name []byte) error {
			rs := map[string]*registry.Release{}
			st.Releases[string(name)] = rs
			return btx.Bucket(releasesBucket).Bucket(name).ForEach(func(k, v []byte) error {
				var r registry.Release
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("release %s %s: %w", name, k, err)
				}
				rs[r.Label] = &r
				return nil
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Revision implements registry.Store.
func (s *Store) Revision(ctx context.Context) (rev uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		rev, err = (&txn{tx: tx}).Revision()
		return err
	})
	return rev, err
}

// PutToken implements registry.Store.
func (s *Store) PutToken(ctx context.Context, t *registry.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return registry.ApplyPutToken(&txn{tx: tx}, t) })
}

// TokenByHash implements registry.Store.
func (s *Store) TokenByHash(ctx context.Context, hash string) (t *registry.Token, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		t, err = registry.ApplyTokenByHash(&txn{tx: tx}, hash)
		return err
	})
	return t, err
}

// Tokens implements registry.Store.
func (s *Store) Tokens(ctx context.Context) ([]*registry.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ts := []*registry.Token{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(tokensBucket).ForEach(func(k, v []byte) error {
			var t registry.Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("token %s: %w", k, err)
			}
			ts = append(ts, &t)
			return nil
		})
	})
	return ts, err
}

// RevokeToken implements registry.Store.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return registry.ApplyRevokeToken(&txn{tx: tx}, id) })
}

// txn is a registry.Tx over one bbolt transaction.
type txn struct {
	tx  *bolt.Tx
	seq uint32 // changes logged in this transaction, to order those of one revision
}

func (t *txn) Revision() (uint64, error) {
	v := t.tx.Bucket(metaBucket).Get(revisionKey)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, errors.New("registry store: the revision is not 8 bytes")
	}
	return binary.BigEndian.Uint64(v), nil
}

func (t *txn) SetRevision(rev uint64) error {
	return t.tx.Bucket(metaBucket).Put(revisionKey, binary.BigEndian.AppendUint64(nil, rev))
}

func (t *txn) Frontends() ([]string, error) {
	var names []string
	err := t.tx.Bucket(frontendsBucket).ForEach(func(k, _ []byte) error {
		names = append(names, string(k))
		return nil
	})
	return names, err
}

func (t *txn) Frontend(name string) (*registry.FrontendState, error) {
	v := t.tx.Bucket(frontendsBucket).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	var f registry.FrontendState
	if err := json.Unmarshal(v, &f); err != nil {
		return nil, fmt.Errorf("frontend %s: %w", name, err)
	}
	return &f, nil
}

func (t *txn) PutFrontend(f *registry.FrontendState) error {
	return putJSON(t.tx.Bucket(frontendsBucket), []byte(f.Name), f)
}

func (t *txn) Release(frontend, label string) (*registry.Release, error) {
	b := t.tx.Bucket(releasesBucket).Bucket([]byte(frontend))
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(label))
	if v == nil {
		return nil, nil
	}
	var r registry.Release
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("release %s %s: %w", frontend, label, err)
	}
	return &r, nil
}

func (t *txn) PutRelease(r *registry.Release) error {
	b, err := t.tx.Bucket(releasesBucket).CreateBucketIfNotExists([]byte(r.Frontend))
	if err != nil {
		return err
	}
	return putJSON(b, []byte(r.Label), r)
}

func (t *txn) Log(c registry.Change) error {
	t.seq++
	key := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, c.Revision), t.seq)
	return putJSON(t.tx.Bucket(historyBucket), key, c)
}

func (t *txn) Token(id string) (*registry.Token, error) {
	v := t.tx.Bucket(tokensBucket).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var tok registry.Token
	if err := json.Unmarshal(v, &tok); err != nil {
		return nil, fmt.Errorf("token %s: %w", id, err)
	}
	return &tok, nil
}

func (t *txn) TokenByHash(hash string) (*registry.Token, error) {
	id := t.tx.Bucket(hashesBucket).Get([]byte(hash))
	if id == nil {
		return nil, nil
	}
	tok, err := t.Token(string(id))
	if err == nil && tok == nil {
		err = fmt.Errorf("registry store: the hash index names token %s, which it does not hold", id)
	}
	return tok, err
}

func (t *txn) PutToken(tok, old *registry.Token) error {
	hashes := t.tx.Bucket(hashesBucket)
	if old != nil {
		if err := hashes.Delete([]byte(old.Hash)); err != nil {
			return err
		}
	}
	if err := putJSON(t.tx.Bucket(tokensBucket), []byte(tok.ID), tok); err != nil {
		return err
	}
	return hashes.Put([]byte(tok.Hash), []byte(tok.ID))
}

func (t *txn) DeleteToken(tok *registry.Token) error {
	if err := t.tx.Bucket(hashesBucket).Delete([]byte(tok.Hash)); err != nil {
		return err
	}
	return t.tx.Bucket(tokensBucket).Delete([]byte(tok.ID))
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

var (
	_ registry.Store   = (*Store)(nil)
	_ registry.Tx      = (*txn)(nil)
	_ registry.TokenTx = (*txn)(nil)
)
