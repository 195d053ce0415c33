package bff

import (
	"context"
	"fmt"
	"time"
)

// MaxStateKeyBytes is the longest key a State takes, in bytes.
const MaxStateKeyBytes = 256

// MaxStateNameBytes is the longest BFF name that has a State, in bytes.
const MaxStateNameBytes = 64

// State keeps a BFF's data between requests: byte values under string
// keys, each with an optional time to live. A BFF reaches its own State
// with BFF.State; the keys of other BFFs are out of its reach.
//
// A key is 1 to MaxStateKeyBytes bytes, any bytes. A ttl of 0 means the
// value does not expire; a negative ttl is an error. Values handed in and
// out are copies: changing one after the call changes nothing stored.
type State interface {
	// Get returns the value of key, and false when there is none.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Touch is Get that also restarts the value's time to live: it now
	// expires ttl from now, or never when ttl is 0. Reading through Touch
	// keeps data alive while it is used, such as a session's.
	Touch(ctx context.Context, key string, ttl time.Duration) ([]byte, bool, error)
	// Set stores value under key, to expire ttl from now.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting a key that has no value is not an error.
	Delete(ctx context.Context, key string) error
	// Update applies fn to the value of key atomically: fn gets the value
	// and whether there is one, and what it returns is stored, to expire
	// ttl from now; a nil value deletes the key (an empty one is stored).
	// Update returns what it stored. When fn fails, nothing changes and
	// Update returns fn's error.
	//
	// Under contention fn may run more than once, each time with the
	// latest value, so it must have no other effect. It must not call the
	// State: an implementation may hold a lock while fn runs.
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte, ok bool) ([]byte, error)) ([]byte, error)
}

// StateStore holds the State of many BFFs, each in a namespace of its
// own. Whoever runs a BFF gives it a store with BFF.UseState: the shell
// for the BFFs linked into it, a BFF's bootstrap in Lambda. NewMemState
// returns one in memory; adapters/redis has one in Redis, which the
// processes running one BFF share.
type StateStore interface {
	// Namespace returns the State of the BFF called name. It is called
	// with valid names only (see CheckStateName).
	Namespace(name string) State
}

// CheckStateName returns an error unless name can name a namespace of a
// StateStore: 1 to MaxStateNameBytes letters, digits, '-', '_' and '.'.
// Every frontend's name can.
func CheckStateName(name string) error {
	if name == "" || len(name) > MaxStateNameBytes {
		return fmt.Errorf("bff state: the BFF name %q is not 1 to %d bytes long, so the BFF has no state", name, MaxStateNameBytes)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("bff state: the BFF name %q has %q, so the BFF has no state: a name with state has letters, digits, '-', '_' and '.' only", name, c)
		}
	}
	return nil
}

// checkStateKey returns an error unless key is 1 to MaxStateKeyBytes
// bytes long.
func checkStateKey(op, key string) error {
	if key == "" {
		return fmt.Errorf("bff state: %s: the key is empty", op)
	}
	if len(key) > MaxStateKeyBytes {
		return fmt.Errorf("bff state: %s: the key %.32q… is %d bytes long, more than %d", op, key, len(key), MaxStateKeyBytes)
	}
	return nil
}

func checkStateTTL(op, key string, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("bff state: %s %q: the ttl %v is negative; 0 means no expiry", op, key, ttl)
	}
	return nil
}

// UseState makes the BFF keep its state in s, in the namespace of its
// name. Call it before the BFF serves; a BFF that is given no store keeps
// its state in a memory store of its own, which is neither shared nor
// kept across a restart.
func (b *BFF) UseState(s StateStore) {
	b.state.Store(bindState(b.name, s))
}

// State returns the BFF's State, for its functions to keep data in. It is
// the State of the BFF's name in the store the runtime gave with
// UseState, even when UseState comes after: a factory may take it before
// the BFF is handed to the runtime.
func (b *BFF) State() State { return boundState{b} }

// bound is the State of one BFF in a store, or why the BFF has none.
type bound struct {
	State
	err error
}

func bindState(name string, s StateStore) *bound {
	if err := CheckStateName(name); err != nil {
		return &bound{err: err}
	}
	return &bound{State: s.Namespace(name)}
}

// current returns the State b's functions use now.
func (b *BFF) current() (*bound, error) {
	st := b.state.Load()
	if st == nil {
		b.state.CompareAndSwap(nil, bindState(b.name, NewMemState()))
		st = b.state.Load()
	}
	return st, st.err
}

// boundState is what BFF.State returns: it checks each call's key and ttl,
// then hands the call to the BFF's current State.
type boundState struct{ b *BFF }

func (s boundState) Get(ctx context.Context, key string) ([]byte, bool, error) {
	st, err := s.b.current()
	if err == nil {
		err = checkStateKey("get", key)
	}
	if err != nil {
		return nil, false, err
	}
	return st.Get(ctx, key)
}

func (s boundState) Touch(ctx context.Context, key string, ttl time.Duration) ([]byte, bool, error) {
	st, err := s.b.current()
	if err == nil {
		err = checkStateKey("touch", key)
	}
	if err == nil {
		err = checkStateTTL("touch", key, ttl)
	}
	if err != nil {
		return nil, false, err
	}
	return st.Touch(ctx, key, ttl)
}

func (s boundState) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	st, err := s.b.current()
	if err == nil {
		err = checkStateKey("set", key)
	}
	if err == nil {
		err = checkStateTTL("set", key, ttl)
	}
	if err != nil {
		return err
	}
	return st.Set(ctx, key, value, ttl)
}

func (s boundState) Delete(ctx context.Context, key string) error {
	st, err := s.b.current()
	if err == nil {
		err = checkStateKey("delete", key)
	}
	if err != nil {
		return err
	}
	return st.Delete(ctx, key)
}

func (s boundState) Update(ctx context.Context, key string, ttl time.Duration, fn func([]byte, bool) ([]byte, error)) ([]byte, error) {
	st, err := s.b.current()
	if err == nil {
		err = checkStateKey("update", key)
	}
	if err == nil {
		err = checkStateTTL("update", key, ttl)
	}
	if err != nil {
		return nil, err
	}
	return st.Update(ctx, key, ttl, fn)
}

// WithState returns a factory that builds the BFF with f and gives it s
// with UseState: what a BFF's bootstrap hands to its runtime.
func (f Factory) WithState(s StateStore) Factory {
	return func(settings Settings) (*BFF, error) {
		b, err := f(settings)
		if err != nil {
			return nil, err
		}
		b.UseState(s)
		return b, nil
	}
}

var (
	_ State      = boundState{}
	_ StateStore = (*MemState)(nil)
)
