package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"
)

// MemBlobs is a Blobs in memory, beside a MemStore: each blob is held
// whole, with the time it was last written.
type MemBlobs struct {
	mu    sync.Mutex
	blobs map[string]memBlob
}

type memBlob struct {
	data    []byte // never changed once stored
	written time.Time
}

// NewMemBlobs returns an empty MemBlobs.
func NewMemBlobs() *MemBlobs {
	return &MemBlobs{blobs: map[string]memBlob{}}
}

// Put implements Blobs.
func (m *MemBlobs) Put(ctx context.Context, r io.Reader, integrity string) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	s384 := sha512.New384()
	s384.Write(data)
	if err := checkIntegrity(s384, integrity); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.blobs[key]; ok {
		data = b.data
	}
	m.blobs[key] = memBlob{data: data, written: time.Now()}
	return key, nil
}

// Open implements Blobs.
func (m *MemBlobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	m.mu.Lock()
	b, ok := m.blobs[key]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", key, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b.data)), nil
}

// Sweep implements Blobs. A MemBlobs has no temporary files.
func (m *MemBlobs) Sweep(ctx context.Context, keep func(key string) bool, before time.Time) (Swept, error) {
	var sw Swept
	m.mu.Lock()
	var old []string
	for key, b := range m.blobs {
		if b.written.Before(before) {
			old = append(old, key)
		}
	}
	m.mu.Unlock()
	// keep runs without the lock: it may take its time, or put blobs.
	for _, key := range old {
		if err := ctx.Err(); err != nil {
			return sw, err
		}
		if keep(key) {
			continue
		}
		m.mu.Lock()
		if b, ok := m.blobs[key]; ok && b.written.Before(before) {
			delete(m.blobs, key)
			sw.Blobs++
			sw.Bytes += int64(len(b.data))
		}
		m.mu.Unlock()
	}
	return sw, nil
}

var _ Blobs = (*MemBlobs)(nil)
