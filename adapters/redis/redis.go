// Package redis keeps collage's shared state in Redis, through go-redis,
// so that many shell replicas serve one registry: Store is the registry's
// store (releases, the active versions, the history, the publish API's
// tokens) and tells the replicas of every change (it is a
// registry.Watcher); Blobs is the blob store of bundle files, which each
// replica caches on its disk after its first read.
//
// Both take a client, which Open makes from a URL:
//
//	rdb, err := redis.Open("redis://127.0.0.1:6379/0")
//	st := redis.NewStore(rdb, "")                   // keys {collage}:…
//	blobs, err := redis.NewBlobs(rdb, "", cacheDir) // keys collage:blob:…
//
// An error reaching Redis (refused, timed out, a server still loading) is
// a *bff.Error of code service_unavailable whose message names the
// server, for the log: the publish API answers it as a 503.
package redis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/collage-dev/collage/bff"
)

// Timeouts Open sets when the URL does not.
const (
	dialTimeout = 2 * time.Second
	ioTimeout   = 2 * time.Second
)

// Open returns a client of the Redis server at rawURL:
// redis://[user:password@]host[:port][/db], or rediss:// for TLS, with
// the query options go-redis's ParseURL reads (such as
// ?dial_timeout=5s&pool_size=20). It does not connect: the first command
// does. So that a dead Redis fails fast rather than holding a publish,
// what the URL leaves out is: dial timeout 2s, read and write timeouts 2s,
// one dial per try, and two tries of a command (max_retries=1). The
// caller closes the client, after the Store and Blobs that use it.
func Open(rawURL string) (goredis.UniversalClient, error) {
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL %s: %w", redact(rawURL), err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = dialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = ioTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = ioTimeout
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 1
	}
	opt.DialerRetries = 1
	return goredis.NewClient(opt), nil
}

// redact hides the password of a URL, which an error may carry to a log.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// addrOf names the server or servers rdb talks to, for error messages.
func addrOf(rdb goredis.UniversalClient) string {
	switch c := rdb.(type) {
	case *goredis.Client:
		return c.Options().Addr
	case *goredis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	case *goredis.Ring:
		return strings.Join(slices.Sorted(maps.Values(c.Options().Addrs)), ",")
	}
	return fmt.Sprintf("%T", rdb)
}

// busy are the prefixes of the errors a Redis server answers while it
// cannot serve for now: loading its data, running a long script, without
// its primary, or with its cluster down.
var busy = []string{"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"}

// failure turns an error of a command to Redis into what the caller is
// told: ctx's own error when ctx is done, an error of code
// service_unavailable when Redis does not answer or cannot serve now,
// and otherwise (a server's refusal, a bug) the error with what and where.
// what names the store, such as "the registry's store".
func failure(ctx context.Context, what, addr string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var reply goredis.Error
	if errors.As(err, &reply) {
		for _, p := range busy {
			if goredis.HasErrorPrefix(err, p) {
				return &bff.Error{Code: bff.CodeServiceUnavailable, Message: fmt.Sprintf("%s (Redis at %s) cannot serve now: %v", what, addr, err)}
			}
		}
		return fmt.Errorf("%s (Redis at %s): %w", what, addr, err)
	}
	return &bff.Error{Code: bff.CodeServiceUnavailable, Message: fmt.Sprintf("%s (Redis at %s) does not answer: %v", what, addr, err)}
}
