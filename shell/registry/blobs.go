package registry

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Blobs is a content-addressed store of bundle files, keyed by the hex
// SHA-256 of their content. A blob never changes once written.
type Blobs interface {
	// Put stores the content of r when its sha384 subresource integrity is
	// integrity, and returns its key; other content is a bad_request and
	// leaves nothing behind.
	Put(ctx context.Context, r io.Reader, integrity string) (string, error)
	// Open reads the blob of key; fs.ErrNotExist when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// DiskBlobs keeps blobs as files under a folder, at sha256/ab/cdef… for the
// key abcdef…, each written to a temporary file, synced and renamed into
// place, so a blob's path holds its whole content or does not exist.
type DiskBlobs struct {
	dir string
}

// NewDiskBlobs returns the blob store in dir, creating it if needed.
func NewDiskBlobs(dir string) (*DiskBlobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "sha256"), 0o755); err != nil {
		return nil, err
	}
	return &DiskBlobs{dir: dir}, nil
}

func (d *DiskBlobs) path(key string) (string, error) {
	if len(key) != sha256.Size*2 {
		return "", badRequest("blob key %q: want 64 hex digits", key)
	}
	if _, err := hex.DecodeString(key); err != nil {
		return "", badRequest("blob key %q: want 64 hex digits", key)
	}
	return filepath.Join(d.dir, "sha256", key[:2], key[2:]), nil
}

// Put implements Blobs.
func (d *DiskBlobs) Put(ctx context.Context, r io.Reader, integrity string) (string, error) {
	tmp, err := os.CreateTemp(d.dir, ".put-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	s256, s384 := sha256.New(), sha512.New384()
	if _, err := io.Copy(io.MultiWriter(tmp, s256, s384), r); err != nil {
		return "", err
	}
	if got := "sha384-" + base64.StdEncoding.EncodeToString(s384.Sum(nil)); got != integrity {
		return "", badRequest("content's integrity is %s, the manifest says %s", got, integrity)
	}
	key := hex.EncodeToString(s256.Sum(nil))
	path, _ := d.path(key)
	if _, err := os.Stat(path); err == nil {
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
	if err := os.Rename(tmp.Name(), path); err != nil {
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

var _ Blobs = (*DiskBlobs)(nil)
