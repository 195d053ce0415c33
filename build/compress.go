package build

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"
)

// A Compressor makes the compressed copy of a file that a server sends as
// it is to clients that accept its encoding, so that nothing is compressed
// while a request waits.
type Compressor struct {
	// Encoding is the Content-Encoding the copy is sent with: "br", "gzip".
	Encoding string
	// Ext is added to the file's name to name its copy: ".br", ".gz".
	Ext string
	// Compress returns data, the content of the file called name,
	// compressed. The name lets a compressor spend less effort on files
	// few people download, such as source maps.
	Compress func(name string, data []byte) ([]byte, error)
}

// Gzip compresses with gzip at its best level into FILE.gz.
var Gzip = Compressor{Encoding: "gzip", Ext: ".gz", Compress: func(_ string, data []byte) ([]byte, error) {
	return gzipBest(data)
}}

// minCompress is the size under which a file gets no compressed copy: the
// headers of the answer weigh more than what compression saves.
const minCompress = 256

// Compressible reports whether a file called name of size bytes is worth a
// compressed copy: text that compression shrinks (images and fonts are
// compressed already), long enough that the copy saves more than its
// answer's headers weigh.
func Compressible(name string, size int64) bool {
	if size < minCompress {
		return false
	}
	switch path.Ext(name) {
	case ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".html", ".xml":
		return true
	}
	return false
}

// compress writes, beside each compressible file of every version of ms
// under out, the copy each compressor makes of it, unless the copy is no
// smaller than the file, and sets every file's gzip size. It compresses
// one file per processor at a time: brotli at its best level is the
// slowest step of a build.
func compress(out string, ms map[string]*Manifest, cs []Compressor) []Message {
	type job struct {
		m    *Manifest
		name string
		c    *Compressor // nil: measure the gzip size only
	}
	type key struct {
		m    *Manifest
		name string
	}
	jobs := make(chan job)
	var (
		mu      sync.Mutex
		msgs    []Message
		gzipped = map[key]int64{}
		wg      sync.WaitGroup
	)
	fail := func(m *Manifest, err error) {
		mu.Lock()
		msgs = append(msgs, Message{File: path.Join("assets", m.Name, m.Version), Text: err.Error()})
		mu.Unlock()
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				file := filepath.Join(versionDir(out, j.m), filepath.FromSlash(j.name))
				data, err := os.ReadFile(file)
				if err != nil {
					fail(j.m, err)
					continue
				}
				c := Gzip
				if j.c != nil {
					c = *j.c
				}
				small, err := c.Compress(j.name, data)
				if err == nil && j.c != nil && len(small) < len(data) {
					err = os.WriteFile(file+c.Ext, small, 0o644)
				}
				if err != nil {
					fail(j.m, fmt.Errorf("compressing %s with %s: %w", j.name, c.Encoding, err))
					continue
				}
				if c.Encoding == Gzip.Encoding {
					mu.Lock()
					gzipped[key{j.m, j.name}] = int64(len(small))
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range ms {
		for name, f := range m.Files {
			measured := false
			for i := range cs {
				c := &cs[i]
				switch _, clash := m.Files[name+c.Ext]; {
				case !Compressible(name, f.Size):
				case clash:
					fail(m, fmt.Errorf("the %s copy of %s would overwrite the file %s of the bundle", c.Encoding, name, name+c.Ext))
				default:
					measured = measured || c.Encoding == Gzip.Encoding
					jobs <- job{m, name, c}
				}
			}
			if !measured { // the manifest has its gzip size all the same, for budgets
				jobs <- job{m, name, nil}
			}
		}
	}
	close(jobs)
	wg.Wait()
	for k, n := range gzipped {
		f := k.m.Files[k.name]
		f.Gzip = n
		k.m.Files[k.name] = f
	}
	return msgs
}

func gzipBest(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(data) // a bytes.Buffer does not fail
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
