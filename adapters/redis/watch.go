package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// How Watch keeps its subscription.
const (
	// heartbeat is how long a subscription may stay silent before Watch
	// pings it, and then how long the ping may go unanswered before Watch
	// drops the connection for a new one: a peer that vanished without
	// closing (a network cut) is noticed within twice this.
	heartbeat = 5 * time.Second
	// Watch subscribes again after a failure, first after minBackoff, then
	// twice as long each time up to maxBackoff.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Watch implements registry.Watcher. It subscribes to the channel
// prefix+"changes", on which every change publishes its revision, and
// calls changed for each message and each confirmation of its
// subscription: the first, and the one after every reconnection, since
// what was published meanwhile is lost. While Redis does not answer it
// subscribes again, 100ms apart at first, up to 2s apart. It returns nil
// when ctx is done, and an error only when the client is closed.
func (s *Store) Watch(ctx context.Context, changed func()) error {
	wait := minBackoff
	for {
		subscribed, err := s.subscribe(ctx, changed)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, goredis.ErrClosed) {
			return fmt.Errorf("watching the registry's store (Redis at %s): %w", s.addr, err)
		}
		if subscribed {
			wait = minBackoff
		}
		if sleep(ctx, wait) != nil {
			return nil
		}
		wait = min(2*wait, maxBackoff)
	}
}

// subscribe holds one subscription until it fails or ctx is done, and
// reports whether Redis confirmed it.
func (s *Store) subscribe(ctx context.Context, changed func()) (subscribed bool, err error) {
	ps := s.rdb.Subscribe(ctx, s.keys.changes)
	defer ps.Close()
	// A receive waits on the socket, not on ctx: closing unblocks it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, heartbeat)
		var ne net.Error
		switch {
		case err == nil:
			pinged = false
		case errors.As(err, &ne) && ne.Timeout() && !pinged:
			if err := ps.Ping(ctx); err != nil {
				return subscribed, err
			}
			pinged = true
			continue
		default:
			return subscribed, err
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				subscribed = true
				changed()
			}
		case *goredis.Message:
			changed()
		}
	}
}
