package redis_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/collage-dev/collage/adapters/redis"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/bff/statetest"
)

// stateRedisAddr is the Redis server the state tests use.
const stateRedisAddr = "127.0.0.1:6379"

// stateClient returns a client of the test server, closed when t ends. A
// test without the server skips with a loud message, and fails under CI,
// which always has one.
func stateClient(t *testing.T) *goredis.Client {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: stateRedisAddr})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis server at %s, which CI must have: %v", stateRedisAddr, err)
		}
		t.Skipf("SKIPPED: no Redis server at %s (%v): start one (redis-server) to run the Redis state tests", stateRedisAddr, err)
	}
	return rdb
}

// statePrefix returns a key prefix of t's own, and deletes every key
// under it when t ends.
func statePrefix(t *testing.T, rdb goredis.UniversalClient) string {
	t.Helper()
	prefix := "collage-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("deleting the keys under %s: %v", prefix, err)
		}
	})
	return prefix
}

func TestState(t *testing.T) {
	t.Parallel()
	rdb := stateClient(t)
	statetest.Run(t, func(t *testing.T) bff.StateStore {
		return redis.NewState(rdb, statePrefix(t, rdb))
	})
}

// TestStateKeys: a BFF's keys are where the package doc says, with
// Redis's own expiry, a ttl under a millisecond rounded up.
func TestStateKeys(t *testing.T) {
	t.Parallel()
	rdb := stateClient(t)
	prefix := statePrefix(t, rdb)
	ctx := context.Background()
	b := bff.New("cart")
	b.UseState(redis.NewState(rdb, prefix))
	st := b.State()
	tests := []struct {
		key      string
		ttl      time.Duration
		min, max time.Duration // of the key's PTTL; -1 is none
	}{
		{"never", 0, -1, -1},
		{"week", 7 * 24 * time.Hour, 7*24*time.Hour - time.Minute, 7 * 24 * time.Hour},
		{"a:b", time.Hour + 500*time.Microsecond, time.Hour - time.Minute, time.Hour + time.Millisecond},
		{"{x}", 0, -1, -1},
	}
	for _, tt := range tests {
		if err := st.Set(ctx, tt.key, []byte("v"+tt.key), tt.ttl); err != nil {
			t.Fatal(err)
		}
		k := prefix + "{state:cart}:" + tt.key
		if v, err := rdb.Get(ctx, k).Result(); err != nil || v != "v"+tt.key {
			t.Errorf("%s = %q, %v; want v%s", k, v, err, tt.key)
		}
		pttl, err := rdb.PTTL(ctx, k).Result()
		if err != nil || pttl < tt.min || pttl > tt.max {
			t.Errorf("PTTL %s = %v, %v; want %v to %v", k, pttl, err, tt.min, tt.max)
		}
	}
	if err := st.Set(ctx, "tiny", []byte("v"), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	// Expired or about to: never without expiry.
	if pttl, err := rdb.PTTL(ctx, prefix+"{state:cart}:tiny").Result(); err != nil || pttl == -1 {
		t.Errorf("a ttl of 1µs left PTTL %v, %v; want it rounded up to 1ms, not dropped", pttl, err)
	}
	if _, _, err := st.Touch(ctx, "week", 0); err != nil {
		t.Fatal(err)
	}
	if pttl, err := rdb.PTTL(ctx, prefix+"{state:cart}:week").Result(); err != nil || pttl != -1 {
		t.Errorf("after Touch with ttl 0, PTTL = %v, %v; want -1 (none)", pttl, err)
	}
}

// TestStateReplicas: processes with clients of their own, as two Lambda
// instances of a BFF, add to one counter at once and lose no increment.
func TestStateReplicas(t *testing.T) {
	t.Parallel()
	prefix := statePrefix(t, stateClient(t))
	ctx := context.Background()
	const replicas, goroutines, increments = 2, 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, replicas*goroutines)
	for range replicas {
		b := bff.New("cart")
		b.UseState(redis.NewState(stateClient(t), prefix))
		st := b.State()
		for range goroutines {
			wg.Go(func() {
				for range increments {
					_, err := st.Update(ctx, "n", time.Hour, func(old []byte, _ bool) ([]byte, error) {
						n, _ := strconv.Atoi(string(old))
						return []byte(strconv.Itoa(n + 1)), nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := stateClient(t).Get(ctx, prefix+"{state:cart}:n").Result()
	if want := fmt.Sprint(replicas * goroutines * increments); err != nil || v != want {
		t.Errorf("the counter is %q, %v; want %s", v, err, want)
	}
}

// TestStateDown: a store whose server does not answer fails each call
// with an error that names the BFF and the call.
func TestStateDown(t *testing.T) {
	t.Parallel()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	b := bff.New("cart")
	b.UseState(redis.NewState(rdb, ""))
	st := b.State()
	ctx := context.Background()
	_, _, err := st.Get(ctx, "k")
	if err == nil || !containsAll(err.Error(), "cart", "get", `"k"`) {
		t.Errorf("Get with Redis down: %v, want an error naming cart, get and the key", err)
	}
	_, err = st.Update(ctx, "k", 0, func([]byte, bool) ([]byte, error) { return []byte("v"), nil })
	if err == nil || !containsAll(err.Error(), "cart", "update") {
		t.Errorf("Update with Redis down: %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
