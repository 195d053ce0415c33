package shell

import (
	"bytes"
	"compress/gzip"
	"html"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/runtime"
)

// maxCachedAssets bounds the bytes of assets held in memory; past it, files
// are read from disk on each request.
const maxCachedAssets = 256 << 20

// The bodies of an asset: the compressed copies collage build writes
// beside a file, in the order the shell prefers them, then the file.
const (
	brotli   = iota // FILE.br
	gzipped         // FILE.gz
	identity        // the file itself
)

// encodings name each copy's Content-Encoding and file.
var encodings = [identity]struct{ name, ext string }{brotli: {"br", ".br"}, gzipped: {"gzip", ".gz"}}

// assets serves the files of immutable versions. A file is sent as the
// build wrote it: its brotli or gzip copy when the client accepts one,
// itself otherwise. Nothing is compressed here. Since a version never
// changes, each body is read once, on its first request, and served from
// memory after; a body nobody asked for (the gzip copy, when every client
// takes brotli) stays on disk.
type assets struct {
	dir        string
	sourceMaps bool // whether .map files are served
	mu         sync.RWMutex
	files      map[string]*asset
	room       atomic.Int64 // bytes still allowed in memory
}

func newAssets(dir string, sourceMaps bool) *assets {
	s := &assets{dir: dir, sourceMaps: sourceMaps, files: map[string]*asset{}}
	s.room.Store(maxCachedAssets)
	return s
}

// asset is one file and its compressed copies.
type asset struct {
	ctype string
	// sourceMap is the SourceMap header: the URL of the file's map,
	// relative to the file, when maps are served and it has one.
	sourceMap string
	path      string // on disk; empty for a file held in memory only
	has       [identity]bool
	// bodies are the copies and the file, each once read.
	bodies [identity + 1]atomic.Pointer[[]byte]
	room   *atomic.Int64 // the store's, when bodies are read from disk
}

func contentType(name string) string {
	ext := filepath.Ext(name)
	if ext == ".map" { // unknown to the mime package
		return "application/json"
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// newAsset is a file that the binary holds, such as the client runtime.
// Gzip is the one encoding the standard library writes: it runs once,
// here, when the server is made.
func newAsset(name string, data []byte) *asset {
	a := &asset{ctype: contentType(name)}
	a.bodies[identity].Store(&data)
	if len(data) > 256 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level
		zw.Write(data)                                         // a bytes.Buffer does not fail
		zw.Close()
		if gz := b.Bytes(); len(gz) < len(data) {
			a.has[gzipped] = true
			a.bodies[gzipped].Store(&gz)
		}
	}
	return a
}

// get returns the asset at path, noting which copies of it exist.
func (s *assets) get(file string) (*asset, error) {
	s.mu.RLock()
	a := s.files[file]
	s.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	info, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	a = &asset{ctype: contentType(file), path: file, room: &s.room}
	for i, e := range encodings {
		a.has[i] = regular(file + e.ext)
	}
	if s.sourceMaps && regular(file+".map") {
		a.sourceMap = url.PathEscape(filepath.Base(file) + ".map")
	}
	s.mu.Lock()
	if known := s.files[file]; known != nil {
		a = known
	} else {
		s.files[file] = a
	}
	s.mu.Unlock()
	return a, nil
}

func regular(file string) bool {
	info, err := os.Stat(file)
	return err == nil && info.Mode().IsRegular()
}

// body returns the body of encoding i (or identity), reading it the first
// time and keeping it while there is room.
func (a *asset) body(i int) ([]byte, error) {
	if b := a.bodies[i].Load(); b != nil {
		return *b, nil
	}
	file := a.path
	if i != identity {
		file += encodings[i].ext
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if a.room.Add(-int64(len(data))) >= 0 {
		if !a.bodies[i].CompareAndSwap(nil, &data) {
			a.room.Add(int64(len(data))) // a concurrent first request kept its read
		}
	} else {
		a.room.Add(int64(len(data)))
	}
	return data, nil
}

// send writes a with the best encoding the client accepts. Any origin may
// read it (CORS): a page whose Options.AssetsURL is a CDN in front of this
// shell fetches its modules and stylesheets in CORS mode, to check their
// integrity. Assets are public and never depend on credentials.
func send(req Request, resp Response, a *asset) error {
	resp.SetHeader("Cache-Control", immutable)
	resp.SetHeader("Access-Control-Allow-Origin", "*")
	resp.SetHeader("Content-Type", a.ctype)
	if a.sourceMap != "" {
		resp.SetHeader("SourceMap", a.sourceMap)
	}
	i := identity
	if a.has != [identity]bool{} {
		resp.SetHeader("Vary", "Accept-Encoding")
		accept := req.Header("Accept-Encoding")
		for j, e := range encodings {
			if a.has[j] && accepts(accept, e.name) {
				i = j
				break
			}
		}
	}
	body, err := a.body(i)
	if err != nil {
		return err
	}
	if i != identity {
		resp.SetHeader("Content-Encoding", encodings[i].name)
	}
	resp.Send(http.StatusOK, body)
	return nil
}

// accepts reports whether an Accept-Encoding header accepts coding: named,
// or matched by "*", with a quality above zero.
func accepts(header, coding string) bool {
	star := false
	for item := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(item, ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, coding) && name != "*" {
			continue
		}
		ok := !zeroQuality(params)
		if name != "*" {
			return ok
		}
		star = ok
	}
	return star
}

// zeroQuality reports whether params (after a coding's ";") set q=0.
func zeroQuality(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			v = strings.TrimRight(strings.TrimSpace(v), "0")
			return v == "" || v == "0." || v == "0"
		}
	}
	return false
}

// errNoAsset answers a request for an asset that is not there, or not
// served.
var errNoAsset = &bff.Error{Code: bff.CodeNotFound, Message: "no such asset"}

// serveAsset answers /assets/REST: the client runtime under _collage/,
// NAME/VERSION/FILE from the assets folder.
func (h *Handler) serveAsset(req Request, resp Response, rest string) error {
	if rest == runtimeFolder+runtime.File {
		return send(req, resp, h.runtime)
	}
	if h.assets == nil {
		return &bff.Error{Code: bff.CodeNotFound, Message: "Cannot " + req.Method() + " " + html.EscapeString(req.Path())}
	}
	name, rest, _ := strings.Cut(rest, "/")
	version, file, ok := strings.Cut(rest, "/")
	if !ok || name == "" || version == "" {
		return errNoAsset
	}
	return h.assets.serve(req, resp, name, version, file)
}

// serve answers NAME/VERSION/FILE from dir.
func (s *assets) serve(req Request, resp Response, name, version, file string) error {
	if strings.Contains(name, "..") || strings.Contains(version, "..") || strings.Contains(file, "..") ||
		strings.HasPrefix(file, "/") || file == "" {
		return errNoAsset
	}
	if !s.sourceMaps && isSourceMap(file) {
		return errNoAsset
	}
	a, err := s.get(filepath.Join(s.dir, name, version, filepath.FromSlash(file)))
	if err != nil {
		return errNoAsset
	}
	return send(req, resp, a)
}

// isSourceMap reports whether file is a source map or a compressed copy
// of one.
func isSourceMap(file string) bool {
	for _, e := range encodings {
		file = strings.TrimSuffix(file, e.ext)
	}
	return path.Ext(file) == ".map"
}
