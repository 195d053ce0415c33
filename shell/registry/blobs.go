package registry

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Blobs is a content-addressed store of bundle files, keyed by the hex
// SHA-256 of their content. A blob never changes once written.
type Blobs interface {
	// Put stores the content of r when its sha384 subresource integrity is
	// integrity, and returns its key; other content is a bad_request and
	// leaves nothing behind. Putting a blob that is stored already renews
	// its write time, as if it were written again.
	Put(ctx context.Context, r io.Reader, integrity string) (string, error)
	// Open reads the blob of key; fs.ErrNotExist when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Sweep deletes every blob whose key keep rejects and that was last
	// written before before, and every temporary file of a Put older than
	// before, which a crash left. A publish writes its blobs before its
	// release, so keep, made from the releases stored, does not name
	// them yet: before is a grace period, earlier than the start of any
	// publish still running, that keeps them.
	Sweep(ctx context.Context, keep func(key string) bool, before time.Time) (Swept, error)
}

// Swept counts what a Sweep deleted.
type Swept struct {
	Blobs int   // blobs
	Bytes int64 // bytes of the blobs and temporary files
	Temp  int   // temporary files
}

// tempPrefix begins the name of a temporary file of DiskBlobs.Put.
const tempPrefix = ".put-"

// DiskBlobs keeps blobs as files under a folder, at sha256/ab/cdef… for the
// key abcdef…, each written to a temporary file, synced and renamed into
// place, so a blob's path holds its whole content or does not exist. A
// blob's write time is its file's modification time. One process uses the
// folder at a time: its Put and Sweep take turns over each blob.
type DiskBlobs struct {
	dir string
	// mu orders a Put's renewal or rename of a blob (read-locked: puts
	// run together) and a Sweep's check and removal of one (locked), so a
	// sweep never deletes a blob a put has just given the key of.
	mu sync.RWMutex
}

// NewDiskBlobs returns the blob store in dir, creating it if needed.
func NewDiskBlobs(dir string) (*DiskBlobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "sha256"), 0o755); err != nil {
		return nil, err
	}
	return &DiskBlobs{dir: dir}, nil
}

// checkKey refuses what is not a key Put returns: 64 lowercase hex digits.
func checkKey(key string) error {
	if len(key) != sha256.Size*2 || strings.Trim(key, "0123456789abcdef") != "" {
		return badRequest("blob key %q: want 64 lowercase hex digits", key)
	}
	return nil
}

// checkIntegrity refuses content whose sha384 sum is not integrity.
func checkIntegrity(sum384 hash.Hash, integrity string) error {
	if got := "sha384-" + base64.StdEncoding.EncodeToString(sum384.Sum(nil)); got != integrity {
		return badRequest("content's integrity is %s, the manifest says %s", got, integrity)
	}
	return nil
}

func (d *DiskBlobs) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.dir, "sha256", key[:2], key[2:]), nil
}

// Put implements Blobs.
func (d *DiskBlobs) Put(ctx context.Context, r io.Reader, integrity string) (string, error) {
	tmp, err := os.CreateTemp(d.dir, tempPrefix+"*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	s256, s384 := sha256.New(), sha512.New384()
	if _, err := io.Copy(io.MultiWriter(tmp, s256, s384), r); err != nil {
		return "", err
	}
	if err := checkIntegrity(s384, integrity); err != nil {
		return "", err
	}
	key := hex.EncodeToString(s256.Sum(nil))
	path, _ := d.path(key)
	d.mu.RLock()
	now := time.Now()
	renewed := os.Chtimes(path, now, now) == nil
	d.mu.RUnlock()
	if renewed {
		return key, nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	d.mu.RLock()
	err = os.Rename(tmp.Name(), path)
	d.mu.RUnlock()
	if err != nil {
		return "", err
	}
	// The rename is durable once the folder that names the blob is.
	return key, syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Open implements Blobs.
func (d *DiskBlobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", key, fs.ErrNotExist)
	}
	return f, err
}

// Sweep implements Blobs. It deletes only files Put makes: a blob's
// file, at the path of its key, and a temporary file in the folder.
func (d *DiskBlobs) Sweep(ctx context.Context, keep func(key string) bool, before time.Time) (Swept, error) {
	var sw Swept
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return sw, err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return sw, err
		}
		if !strings.HasPrefix(e.Name(), tempPrefix) || !e.Type().IsRegular() {
			continue
		}
		size, err := d.remove(filepath.Join(d.dir, e.Name()), before)
		if err != nil {
			return sw, err
		}
		if size >= 0 {
			sw.Temp++
			sw.Bytes += size
		}
	}
	root := filepath.Join(d.dir, "sha256")
	prefixes, err := os.ReadDir(root)
	if err != nil {
		return sw, err
	}
	for _, p := range prefixes {
		if !p.IsDir() || len(p.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, p.Name()))
		if err != nil {
			return sw, err
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return sw, err
			}
			key := p.Name() + f.Name()
			if checkKey(key) != nil || !f.Type().IsRegular() || keep(key) {
				continue
			}
			size, err := d.remove(filepath.Join(root, p.Name(), f.Name()), before)
			if err != nil {
				return sw, err
			}
			if size >= 0 {
				sw.Blobs++
				sw.Bytes += size
			}
		}
	}
	return sw, nil
}

// remove deletes the file at path when it was last written before before,
// and returns its size, or -1 when it is younger or gone.
func (d *DiskBlobs) remove(path string, before time.Time) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	if !info.ModTime().Before(before) {
		return -1, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return -1, err
	}
	return info.Size(), nil
}

var _ Blobs = (*DiskBlobs)(nil)
