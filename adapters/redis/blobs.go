package redis

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// DefaultBlobPrefix begins the keys of Blobs given no prefix. It has no
// hash tag, unlike DefaultPrefix: no transaction spans two keys of Blobs,
// or a key of Blobs and one of the registry, so a Redis Cluster may
// spread the blobs, the bulk of the data, over all its slots and nodes.
const DefaultBlobPrefix = "collage:"

// cacheTemp begins the name of a temporary file of the cache.
const cacheTemp = ".cache-"

// Blobs is a registry.Blobs in Redis, with a cache on the replica's disk.
// Its keys, after the prefix:
//
//	blob:SHA256  hash: "data", the content; "written", the last write time (Unix ms)
//	blobtimes    sorted set: SHA256 by write time, the index Sweep searches
//
// A blob's own key holds its write time so that each command that must
// be atomic touches one key: Put renews or writes a blob in one script or
// MULTI, and Sweep deletes one only when its write time is still old, in
// one script. The index is only where Sweep looks first.
//
// Open reads the cache first, at cacheDir/sha256/ab/cdef… for the key
// abcdef…, and asks Redis only for a blob not there: it checks that what
// Redis returned is the blob of its key, then writes it to the cache, a
// temporary file renamed into place. Blobs never change, so a replica asks
// Redis once for each (once for concurrent first reads too), and serves
// the blobs it has read while Redis is down.
type Blobs struct {
	rdb    goredis.UniversalClient
	addr   string
	prefix string
	times  string
	dir    string
	flight singleflight.Group
}

// NewBlobs returns the blob store whose keys begin with prefix, in the
// Redis rdb talks to, with its cache in cacheDir, which it creates if
// needed. prefix: Optional. Default: DefaultBlobPrefix. Replicas that
// share a registry give it the same prefix; replicas on one host may even
// share cacheDir, as every write there is a rename.
func NewBlobs(rdb goredis.UniversalClient, prefix, cacheDir string) (*Blobs, error) {
	if prefix == "" {
		prefix = DefaultBlobPrefix
	}
	if cacheDir == "" {
		return nil, errors.New("blob store: no folder for the cache")
	}
	if err := os.MkdirAll(filepath.Join(cacheDir, "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	return &Blobs{rdb: rdb, addr: addrOf(rdb), prefix: prefix, times: prefix + "blobtimes", dir: cacheDir}, nil
}

func (b *Blobs) fail(ctx context.Context, err error) error {
	return failure(ctx, "the blob store", b.addr, err)
}

func (b *Blobs) key(sum string) string { return b.prefix + "blob:" + sum }

// checkKey refuses what is not a key Put returns: 64 lowercase hex digits.
func checkKey(key string) error {
	if len(key) != sha256.Size*2 || strings.Trim(key, "0123456789abcdef") != "" {
		return &bff.Error{Code: bff.CodeBadRequest, Message: fmt.Sprintf("blob key %q: want 64 lowercase hex digits", key)}
	}
	return nil
}

func (b *Blobs) cachePath(key string) string {
	return filepath.Join(b.dir, "sha256", key[:2], key[2:])
}

// renewScript sets the write time of the blob KEYS[1] to ARGV[1] and
// returns 1, or returns 0 when there is no such blob.
var renewScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'written', ARGV[1])
return 1`)

// Put implements registry.Blobs. A blob stored already is not sent
// again: its write time is renewed.
func (b *Blobs) Put(ctx context.Context, r io.Reader, integrity string) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if got := build.Integrity(data); got != integrity {
		return "", &bff.Error{Code: bff.CodeBadRequest, Message: fmt.Sprintf("content's integrity is %s, the manifest says %s", got, integrity)}
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	blob := b.key(key)
	now := time.Now().UnixMilli()
	// The index first: a blob is never younger than its entry, so Sweep
	// finds every blob it may delete.
	if err := b.rdb.ZAdd(ctx, b.times, goredis.Z{Score: float64(now), Member: key}).Err(); err != nil {
		return "", b.fail(ctx, err)
	}
	renewed, err := renewScript.Run(ctx, b.rdb, []string{blob}, now).Int()
	if err != nil {
		return "", b.fail(ctx, err)
	}
	if renewed == 1 {
		return key, nil
	}
	_, err = b.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSetNX(ctx, blob, "data", data)
		p.HSet(ctx, blob, "written", now)
		return nil
	})
	if err != nil {
		return "", b.fail(ctx, err)
	}
	return key, nil
}

// Open implements registry.Blobs. A blob the cache cannot hold (a full
// disk) is still returned, and read from Redis again next time.
func (b *Blobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	path := b.cachePath(key)
	f, err := os.Open(path)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// The first caller reads for all: it must not fail the others by
	// leaving.
	ctx = context.WithoutCancel(ctx)
	data, err, _ := b.flight.Do(key, func() (any, error) { return b.fetch(ctx, key, path) })
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data.([]byte))), nil
}

// fetch reads the blob of key from Redis, checks it, and caches it at
// path.
func (b *Blobs) fetch(ctx context.Context, key, path string) ([]byte, error) {
	// Another read may have cached it since the caller looked.
	if data, err := os.ReadFile(path); err == nil {
		return data, nil
	}
	data, err := b.rdb.HGet(ctx, b.key(key), "data").Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("blob %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, b.fail(ctx, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != key {
		return nil, fmt.Errorf("blob %s: Redis at %s holds other content under its key (sha256 %x): not served", key, b.addr, sum)
	}
	_ = b.cache(path, data) // the data is served all the same
	return data, nil
}

// cache writes data at path, whole or not at all: a temporary file,
// synced, then renamed.
func (b *Blobs) cache(path string, data []byte) error {
	tmp, err := os.CreateTemp(b.dir, cacheTemp+"*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// deleteScript deletes the blob KEYS[1] when it was last written before
// ARGV[1] and returns its size; -1 when it is younger, -2 when there is
// none.
var deleteScript = goredis.NewScript(`
local written = redis.call('HGET', KEYS[1], 'written')
if not written then return -2 end
if tonumber(written) >= tonumber(ARGV[1]) then return -1 end
local size = redis.call('HSTRLEN', KEYS[1], 'data')
redis.call('DEL', KEYS[1])
return size`)

// unindexScript removes ARGV[1] from the index KEYS[1] when its write time
// there is still before ARGV[2].
var unindexScript = goredis.NewScript(`
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) < tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`)

// Sweep implements registry.Blobs. It deletes the blobs from Redis and
// from this replica's cache, and the cache's temporary files. It also
// drops from the cache the blobs keep rejects that were cached before
// before, which another replica's sweep may have deleted from Redis;
// Swept counts only what it deleted from Redis, and the temporary files.
func (b *Blobs) Sweep(ctx context.Context, keep func(key string) bool, before time.Time) (registry.Swept, error) {
	var sw registry.Swept
	if err := ctx.Err(); err != nil {
		return sw, err
	}
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return sw, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), cacheTemp) || !e.Type().IsRegular() {
			continue
		}
		if size := removeOld(filepath.Join(b.dir, e.Name()), before); size >= 0 {
			sw.Temp++
			sw.Bytes += size
		}
	}
	ms := before.UnixMilli()
	old, err := b.rdb.ZRangeByScore(ctx, b.times, &goredis.ZRangeBy{Min: "-inf", Max: "(" + strconv.FormatInt(ms, 10)}).Result()
	if err != nil {
		return sw, b.fail(ctx, err)
	}
	for _, key := range old {
		if err := ctx.Err(); err != nil {
			return sw, err
		}
		if checkKey(key) != nil || keep(key) {
			continue
		}
		size, err := deleteScript.Run(ctx, b.rdb, []string{b.key(key)}, ms).Int64()
		if err != nil {
			return sw, b.fail(ctx, err)
		}
		if size == -1 { // written again since the index said
			continue
		}
		if size >= 0 {
			sw.Blobs++
			sw.Bytes += size
		}
		if err := unindexScript.Run(ctx, b.rdb, []string{b.times}, key, ms).Err(); err != nil {
			return sw, b.fail(ctx, err)
		}
		if err := os.Remove(b.cachePath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return sw, err
		}
	}
	return sw, b.sweepCache(ctx, keep, before)
}

// sweepCache removes the cached blobs keep rejects that were cached
// before before.
func (b *Blobs) sweepCache(ctx context.Context, keep func(key string) bool, before time.Time) error {
	root := filepath.Join(b.dir, "sha256")
	prefixes, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, p := range prefixes {
		if !p.IsDir() || len(p.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, p.Name()))
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := p.Name() + f.Name()
			if checkKey(key) != nil || !f.Type().IsRegular() || keep(key) {
				continue
			}
			removeOld(filepath.Join(root, p.Name(), f.Name()), before)
		}
	}
	return nil
}

// removeOld deletes the file at path when it was last written before
// before, and returns its size; -1 when it is younger, gone, or stays.
func removeOld(path string, before time.Time) int64 {
	info, err := os.Lstat(path)
	if err != nil || !info.ModTime().Before(before) || os.Remove(path) != nil {
		return -1
	}
	return info.Size()
}

var _ registry.Blobs = (*Blobs)(nil)
