package fiberhttp

import (
	"bytes"
	"compress/gzip"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	brotli "github.com/molecule-man/go-brrr"
)

// maxCachedAssets bounds the bytes of assets held in memory; past it, files
// are read from disk on each request.
const maxCachedAssets = 256 << 20

// assets serves the files of immutable versions. Since a version never
// changes, each file is read and compressed (brotli and gzip) once, on its
// first request, and served from memory after.
type assets struct {
	dir   string
	mu    sync.RWMutex
	files map[string]*asset
	size  int64
}

type asset struct {
	ctype        string
	raw, gz, brz []byte
}

func newAsset(path string, data []byte) *asset {
	a := &asset{ctype: mime.TypeByExtension(filepath.Ext(path)), raw: data}
	if a.ctype == "" {
		a.ctype = "application/octet-stream"
	}
	if compressible(a.ctype) && len(data) > 256 {
		a.gz, a.brz = gzipped(data), brotlied(data)
	}
	return a
}

// gzipped is data compressed with gzip at its best.
func gzipped(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level
	w.Write(data)                                         // a bytes.Buffer does not fail
	w.Close()
	return b.Bytes()
}

// brotlied is data compressed with brotli at its best.
func brotlied(data []byte) []byte {
	b, err := brotli.Compress(data, brotli.BestCompression)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return b
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func (s *assets) get(path string) (*asset, error) {
	s.mu.RLock()
	a := s.files[path]
	s.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a = newAsset(path, data)
	s.mu.Lock()
	if s.size+int64(len(data)) <= maxCachedAssets {
		if _, ok := s.files[path]; !ok {
			s.files[path] = a
			s.size += int64(len(a.raw) + len(a.gz) + len(a.brz))
		}
	}
	s.mu.Unlock()
	return a, nil
}

// send writes a with the best encoding the client accepts.
func send(c *fiber.Ctx, a *asset) error {
	c.Set(fiber.HeaderCacheControl, immutable)
	c.Set(fiber.HeaderContentType, a.ctype)
	if a.gz == nil {
		return c.Send(a.raw)
	}
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	switch {
	case c.Request().Header.HasAcceptEncoding("br"):
		c.Set(fiber.HeaderContentEncoding, "br")
		return c.Send(a.brz)
	case c.Request().Header.HasAcceptEncoding("gzip"):
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(a.gz)
	}
	return c.Send(a.raw)
}

// handler serves /assets/:name/:version/* from dir.
func (s *assets) handler(c *fiber.Ctx) error {
	name, version, file := c.Params("name"), c.Params("version"), c.Params("*")
	if strings.Contains(name, "..") || strings.Contains(version, "..") || strings.Contains(file, "..") ||
		strings.HasPrefix(file, "/") || file == "" {
		return fiber.ErrNotFound
	}
	a, err := s.get(filepath.Join(s.dir, name, version, filepath.FromSlash(file)))
	if err != nil {
		return fiber.ErrNotFound
	}
	return send(c, a)
}
