package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/collage-dev/collage/bff"
)

// maxUpdateAttempts bounds the times Update runs its function when
// others keep changing the value under it.
const maxUpdateAttempts = 100

// quickAttempts is how many times Update tries again at once, on the
// value its script found, before it waits between attempts.
const quickAttempts = 2

// maxUpdateBackoff bounds the random wait between two attempts of Update.
const maxUpdateBackoff = 10 * time.Millisecond

// State is a bff.StateStore in Redis, which every process that runs a
// BFF shares: the replicas of a shell, the Lambda instances of a BFF.
//
// The value of key KEY of the BFF called NAME is the string at
// PREFIX{state:NAME}:KEY: the hash tag puts a BFF's keys in one slot of
// a Redis Cluster. Times to live are Redis's own, in whole milliseconds;
// a shorter one is rounded up. Update reads the value, runs its function,
// and stores the result with a script that writes only while the value
// is still what the function saw. When it is not, the function runs
// again: at once on the value the script found, twice, then after random
// waits that grow to 10ms, each time on the value read again; at most
// 100 times in all. Eight writers of one key lose no update.
//
// A server that must evict keys when full should use the volatile-ttl or
// volatile-lru policy: a BFF's state then goes before values that never
// expire, and the soonest or least used first.
type State struct {
	rdb    goredis.UniversalClient
	prefix string
}

// DefaultStatePrefix begins the keys of a State given no prefix: the same
// as the files', so that the shell's linked BFFs and their Lambda
// bootstraps find one another's state.
const DefaultStatePrefix = DefaultBlobPrefix

// NewState returns the State store of BFFs in rdb, under keys that start
// with prefix. prefix: Optional. Default: DefaultStatePrefix.
func NewState(rdb goredis.UniversalClient, prefix string) *State {
	if prefix == "" {
		prefix = DefaultStatePrefix
	}
	return &State{rdb: rdb, prefix: prefix}
}

// Namespace implements bff.StateStore.
func (s *State) Namespace(name string) bff.State {
	return &stateSpace{rdb: s.rdb, name: name, keys: s.prefix + "{state:" + name + "}:"}
}

// stateSpace is the State of one BFF.
type stateSpace struct {
	rdb  goredis.UniversalClient
	name string
	keys string // what every key of the BFF starts with
}

func (s *stateSpace) fail(op, key string, err error) error {
	return fmt.Errorf("redis state of %s: %s %.32q: %w", s.name, op, key, err)
}

// found turns a string reply into a value and whether there is one.
func (s *stateSpace) found(op, key string, v []byte, err error) ([]byte, bool, error) {
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, s.fail(op, key, err)
	}
	return v, true, nil
}

func (s *stateSpace) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := s.rdb.Get(ctx, s.keys+key).Bytes()
	return s.found("get", key, v, err)
}

// Touch is one GETEX, with PERSIST for a ttl of 0.
func (s *stateSpace) Touch(ctx context.Context, key string, ttl time.Duration) ([]byte, bool, error) {
	v, err := s.rdb.GetEx(ctx, s.keys+key, wholeMillis(ttl)).Bytes()
	return s.found("touch", key, v, err)
}

func (s *stateSpace) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, s.keys+key, value, wholeMillis(ttl)).Err(); err != nil {
		return s.fail("set", key, err)
	}
	return nil
}

func (s *stateSpace) Delete(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.keys+key).Err(); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// compareAndSet writes KEYS[1] only while its value's SHA-1 is ARGV[1],
// or while it has none when ARGV[1] is empty: ARGV[2] "del" deletes it,
// "set" sets it to ARGV[4], to expire in ARGV[3] milliseconds ("0":
// never). It answers {1} when it wrote, else {0} and the value, if any.
var compareAndSet = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
	if cur then return {0, cur} end
elseif not cur then
	return {0}
elseif redis.sha1hex(cur) ~= ARGV[1] then
	return {0, cur}
end
if ARGV[2] == 'del' then
	redis.call('DEL', KEYS[1])
elseif ARGV[3] == '0' then
	redis.call('SET', KEYS[1], ARGV[4])
else
	redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
end
return {1}
`)

func (s *stateSpace) Update(ctx context.Context, key string, ttl time.Duration, fn func([]byte, bool) ([]byte, error)) ([]byte, error) {
	k := s.keys + key
	v, err := s.rdb.Get(ctx, k).Bytes()
	old, ok, err := s.found("update", key, v, err)
	if err != nil {
		return nil, err
	}
	ms := fmt.Sprint(wholeMillis(ttl).Milliseconds())
	for attempt := 1; ; attempt++ {
		seen := "" // the SHA-1 of the value fn saw, in hex; none when there is none
		if ok {
			sum := sha1.Sum(old)
			seen = hex.EncodeToString(sum[:])
		}
		value, err := fn(old, ok)
		if err != nil {
			return nil, err
		}
		op := "set"
		if value == nil {
			op = "del"
		}
		reply, err := compareAndSet.Run(ctx, s.rdb, []string{k}, seen, op, ms, value).Slice()
		if err != nil {
			return nil, s.fail("update", key, err)
		}
		if n, _ := reply[0].(int64); n == 1 {
			return value, nil
		}
		if attempt == maxUpdateAttempts {
			return nil, s.fail("update", key, fmt.Errorf("the value changed under each of %d attempts", attempt))
		}
		if attempt <= quickAttempts {
			// The script's value is as fresh as a GET's now.
			old, ok = nil, len(reply) > 1
			if ok {
				cur, _ := reply[1].(string)
				old = []byte(cur)
			}
			continue
		}
		// Writers of one key that keep meeting wait, fewer meet, and
		// the value is read again after the wait.
		if err := backoff(ctx, attempt); err != nil {
			return nil, s.fail("update", key, err)
		}
		v, err := s.rdb.Get(ctx, k).Bytes()
		if old, ok, err = s.found("update", key, v, err); err != nil {
			return nil, err
		}
	}
}

// backoff waits a random time of up to 50µs × 2^attempt, at most
// maxUpdateBackoff, so that the writers of one key stop meeting.
func backoff(ctx context.Context, attempt int) error {
	limit := min(maxUpdateBackoff, 50*time.Microsecond<<min(attempt, 10))
	t := time.NewTimer(rand.N(limit))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wholeMillis rounds ttl up to a whole millisecond, the unit of Redis's
// expiry, so that a short ttl does not become none.
func wholeMillis(ttl time.Duration) time.Duration {
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	return ttl
}

var _ bff.StateStore = (*State)(nil)
