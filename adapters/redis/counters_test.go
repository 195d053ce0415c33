package redis

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestCount adds to one count from two replicas at once: every addition
// lands, and each reads a total.
func TestCount(t *testing.T) {
	a, b := openClient(t), openClient(t)
	prefix := freshPrefix(t, a, true)
	stores := []*Store{NewStore(a, prefix), NewStore(b, prefix)}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			for range 50 {
				if _, err := stores[i].Count(ctx, "canary:cart:v2:1", map[string]int64{"canary": 2, "canary_failed": 1}, time.Minute); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := stores[0].Count(ctx, "canary:cart:v2:1", map[string]int64{"active": 5}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got["canary"] != 200 || got["canary_failed"] != 100 || got["active"] != 5 {
		t.Errorf("totals %v, want canary 200, canary_failed 100, active 5", got)
	}
	ttl, err := a.PTTL(ctx, prefix+"counts:canary:cart:v2:1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("the counts expire in %s (%v), want within a minute", ttl, err)
	}
}
