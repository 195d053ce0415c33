package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/collage-dev/collage/shell/registry"
)

// Count implements registry.Counters: a hash per key, under the store's
// prefix and "counts:", added to with HINCRBY and read back in the same
// MULTI, so every replica's additions land and each reads a total.
func (s *Store) Count(ctx context.Context, key string, deltas map[string]int64, ttl time.Duration) (map[string]int64, error) {
	k := s.keys.counts + key
	var all *goredis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for field, d := range deltas {
			if d != 0 {
				p.HIncrBy(ctx, k, field, d)
			}
		}
		p.PExpire(ctx, k, ttl)
		all = p.HGetAll(ctx, k)
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := make(map[string]int64, len(all.Val()))
	for field, v := range all.Val() {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue // not a count: nothing this store wrote
		}
		out[field] = n
	}
	return out, nil
}

var _ registry.Counters = (*Store)(nil)
