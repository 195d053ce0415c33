package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// testURL is the Redis the tests use: $COLLAGE_TEST_REDIS, or the
// default port on loopback.
func testURL() string {
	if u := os.Getenv("COLLAGE_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// openClient returns a client of the test Redis, closed when t ends. When
// no Redis answers it skips t with a loud message, and fails it under
// CI=true: the test command always starts one.
func openClient(t testing.TB) goredis.UniversalClient {
	t.Helper()
	return openURL(t, testURL())
}

func openURL(t testing.TB, rawURL string) goredis.UniversalClient {
	t.Helper()
	rdb, err := Open(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		msg := fmt.Sprintf("\n*** no Redis answers at %s: %v\n*** start redis-server, or name a Redis in COLLAGE_TEST_REDIS (a redis:// URL)\n", redact(rawURL), err)
		if os.Getenv("CI") == "true" {
			t.Fatal("FAILING (CI=true)" + msg)
		}
		t.Skip("SKIPPING" + msg)
	}
	return rdb
}

// freshPrefix returns a prefix of keys no other test uses, with a hash
// tag when tagged, and deletes its keys when t ends.
func freshPrefix(t testing.TB, rdb goredis.UniversalClient, tagged bool) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	name := "collage-test-" + hex.EncodeToString(b[:])
	prefix := name + ":"
	if tagged {
		prefix = "{" + name + "}:"
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := keysOf(ctx, rdb, prefix)
		if err == nil && len(keys) > 0 {
			err = rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("deleting the keys of %s: %v", prefix, err)
		}
	})
	return prefix
}

// keysOf returns every key that begins with prefix.
func keysOf(ctx context.Context, rdb goredis.UniversalClient, prefix string) ([]string, error) {
	var keys []string
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// deadClient returns a client of a loopback port nothing listens on, and
// its address.
func deadClient(t *testing.T) (goredis.UniversalClient, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	rdb, err := Open("redis://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb, addr
}

// A proxy stands between a client and the test Redis, so that a test can
// take Redis away from that client and give it back, as a crash and a
// restart would, or cut the network under its connections, without
// touching the server others use.
type proxy struct {
	target, addr string
	mu           sync.Mutex
	l            net.Listener
	conns        map[net.Conn]bool
	// frozen is the number of connections made before the last freeze,
	// which carry nothing since.
	frozen, made atomic.Int64
}

// startProxy returns a proxy to the test Redis and a client through it,
// both closed when t ends.
func startProxy(t *testing.T) (*proxy, goredis.UniversalClient) {
	t.Helper()
	openClient(t) // skips t when there is no Redis
	opt, err := goredis.ParseURL(testURL())
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: opt.Addr, conns: map[net.Conn]bool{}}
	if err := p.listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	p.addr = p.l.Addr().String()
	t.Cleanup(p.down)
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	return p, openURL(t, u.String())
}

func (p *proxy) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
	return nil
}

func (p *proxy) pipe(c net.Conn) {
	r, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	n := p.made.Add(1)
	p.mu.Lock()
	p.conns[c], p.conns[r] = true, true
	p.mu.Unlock()
	go p.copy(r, c, n)
	p.copy(c, r, n)
}

// copy carries what src sends to dst until either closes, or drops it
// once the connection number n is frozen.
func (p *proxy) copy(dst, src net.Conn, n int64) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 && n > p.frozen.Load() {
			if _, err := dst.Write(buf[:k]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze makes every connection open carry nothing from now on, as a cut
// network would, without closing it; new connections work.
func (p *proxy) freeze() { p.frozen.Store(p.made.Load()) }

// down stops listening and cuts every connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.l.Close()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// up listens again at the same address.
func (p *proxy) up(t *testing.T) {
	t.Helper()
	var err error
	for range 50 {
		if err = p.listen(p.addr); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the proxy cannot listen at %s again: %v", p.addr, err)
}

func TestOpen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url               string
		dial, read, write time.Duration
		retries           int
	}{
		{"redis://127.0.0.1:6379/0", 2 * time.Second, 2 * time.Second, 2 * time.Second, 1},
		{"rediss://user:secret@redis.example:6380/2?dial_timeout=5s&read_timeout=1s&max_retries=4", 5 * time.Second, time.Second, 2 * time.Second, 4},
	} {
		rdb, err := Open(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		opt := rdb.(*goredis.Client).Options()
		if opt.DialTimeout != tc.dial || opt.ReadTimeout != tc.read || opt.WriteTimeout != tc.write || opt.MaxRetries != tc.retries {
			t.Errorf("%s: dial %v, read %v, write %v, retries %d; want %v, %v, %v, %d",
				tc.url, opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries, tc.dial, tc.read, tc.write, tc.retries)
		}
		rdb.Close()
	}
	for _, bad := range []string{"http://127.0.0.1:6379", "redis://:secret@127.0.0.1:6379/x", "redis://:secret@127.0.0.1:6379/0?nonsense=1"} {
		_, err := Open(bad)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): %v; want an error that does not tell the password", bad, err)
		}
	}
}
