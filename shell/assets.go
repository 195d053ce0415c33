package shell

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// maxCachedAssets bounds the bytes of assets, and of their compressed
// copies, held in memory; past it, files are read from the blob store on
// each request, and sent as they are.
const maxCachedAssets = 256 << 20

// assetTimeout bounds the read of a file from the blob store.
const assetTimeout = 10 * time.Second

// assets serves the files of the versions the registry serves, from its
// blob store. Since a blob never changes, each file is read once, on its
// first request, and served from memory after, while there is room; its
// compressed copies are made once, in the background, and sent to the
// clients that accept them as soon as they are ready. Nothing is
// compressed while a request waits.
type assets struct {
	blobs       registry.Blobs
	compressors []build.Compressor
	sourceMaps  bool // whether .map files are served
	mu          sync.RWMutex
	files       map[string]*asset // by blob key and the file's extension
	room        atomic.Int64      // bytes still allowed in memory
}

func newAssets(blobs registry.Blobs, compressors []build.Compressor, sourceMaps bool) *assets {
	s := &assets{blobs: blobs, compressors: compressors, sourceMaps: sourceMaps, files: map[string]*asset{}}
	s.room.Store(maxCachedAssets)
	return s
}

// asset is one file and its compressed copies.
type asset struct {
	ctype    string
	identity []byte
	// copies are the compressed bodies, by the index of their compressor;
	// nil until made, and when no smaller than the file.
	copies []atomic.Pointer[[]byte]
	// encodings name each copy's Content-Encoding.
	encodings []string
}

// assetTypes are the Content-Types of the files a frontend's build
// writes, and of the other web formats a team is likely to publish. They
// are fixed so that a shell answers the same on every host: the mime
// package's own table lacks some of them (.woff2, .txt, .map), which it
// takes from the host's mime.types when there is one (a distroless image
// has none), and loading those tables holds 0.4 MB for as long as the
// process runs.
var assetTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".map":   "application/json",
	".json":  "application/json",
	".html":  "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".ico":   "image/vnd.microsoft.icon",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".wasm":  "application/wasm",
}

// contentType is the Content-Type of a file called name: from assetTypes,
// else from the mime package, else application/octet-stream.
func contentType(name string) string {
	ext := path.Ext(name)
	if ct, ok := assetTypes[strings.ToLower(ext)]; ok {
		return ct
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// newAsset is a file called name of content data, with room for the
// copies of compressors when it is worth compressing.
func newAsset(name string, data []byte, compressors []build.Compressor) *asset {
	a := &asset{ctype: contentType(name), identity: data}
	if build.Compressible(name, int64(len(data))) {
		a.copies = make([]atomic.Pointer[[]byte], len(compressors))
		for _, c := range compressors {
			a.encodings = append(a.encodings, c.Encoding)
		}
	}
	return a
}

// compress makes a's copies, keeping each that is smaller than the file
// and fits in room (nil: no bound).
func (a *asset) compress(name string, compressors []build.Compressor, room *atomic.Int64, log *slog.Logger) {
	for i := range a.copies {
		data, err := compressors[i].Compress(name, a.identity)
		if err != nil {
			log.Error("compressing an asset", "file", name, "encoding", compressors[i].Encoding, "err", err)
			continue
		}
		if len(data) >= len(a.identity) {
			continue
		}
		if room != nil && room.Add(-int64(len(data))) < 0 {
			room.Add(int64(len(data)))
			return
		}
		a.copies[i].Store(&data)
	}
}

// get returns the asset of blob key, read as file, reading it on its first
// request.
func (s *assets) get(key, file string, log *slog.Logger) (*asset, error) {
	id := key + path.Ext(file)
	s.mu.RLock()
	a := s.files[id]
	s.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), assetTimeout)
	defer cancel()
	r, err := s.blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, err
	}
	if s.room.Add(-int64(len(data))) < 0 {
		s.room.Add(int64(len(data)))
		return newAsset(file, data, nil), nil // sent as it is, and forgotten
	}
	a = newAsset(file, data, s.compressors)
	s.mu.Lock()
	if known := s.files[id]; known != nil {
		s.mu.Unlock()
		s.room.Add(int64(len(data))) // a concurrent first request kept its read
		return known, nil
	}
	s.files[id] = a
	s.mu.Unlock()
	if a.copies != nil {
		go a.compress(file, s.compressors, &s.room, log)
	}
	return a, nil
}

// send writes a with the best encoding the client accepts, of the copies
// made so far. Any origin may read it (CORS): a page whose
// Options.AssetsURL is a CDN in front of this shell fetches its modules and
// stylesheets in CORS mode, to check their integrity. Assets are public and
// never depend on credentials. sourceMap, when not empty, is the URL of
// the file's map, relative to the file.
func send(req Request, resp Response, a *asset, sourceMap string) {
	resp.SetHeader("Cache-Control", immutable)
	resp.SetHeader("Access-Control-Allow-Origin", "*")
	resp.SetHeader("Content-Type", a.ctype)
	if sourceMap != "" {
		resp.SetHeader("SourceMap", sourceMap)
	}
	body := a.identity
	if a.copies != nil {
		resp.SetHeader("Vary", "Accept-Encoding")
		accept := req.Header("Accept-Encoding")
		for i := range a.copies {
			if c := a.copies[i].Load(); c != nil && accepts(accept, a.encodings[i]) {
				resp.SetHeader("Content-Encoding", a.encodings[i])
				body = *c
				break
			}
		}
	}
	resp.Send(http.StatusOK, body)
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
// NAME/VERSION/FILE from the versions the registry serves.
func (h *Handler) serveAsset(sh *Shell, req Request, resp Response, rest string) error {
	if rest == runtimeFolder+runtime.File {
		send(req, resp, h.runtime, "")
		return nil
	}
	if rest == runtimeFolder+runtime.DevFile && sh.opts.Dev {
		send(req, resp, h.dev, "")
		return nil
	}
	if h.assets == nil {
		return &bff.Error{Code: bff.CodeNotFound, Message: "Cannot " + req.Method() + " " + html.EscapeString(req.Path())}
	}
	name, rest, _ := strings.Cut(rest, "/")
	version, file, ok := strings.Cut(rest, "/")
	if !ok || name == "" || version == "" || file == "" {
		return errNoAsset
	}
	if !h.assets.sourceMaps && isSourceMap(file) {
		return errNoAsset
	}
	snap := sh.Registry().Current()
	key, ok := snap.Blob(name, version, file)
	if !ok && sh.catchUp() {
		// Of a version another replica has just made active?
		snap = sh.Registry().Current()
		key, ok = snap.Blob(name, version, file)
	}
	if !ok {
		return errNoAsset
	}
	a, err := h.assets.get(key, file, sh.Log())
	if err != nil {
		return fmt.Errorf("asset %s/%s/%s: %w", name, version, file, err)
	}
	sourceMap := ""
	if _, ok := snap.Blob(name, version, file+".map"); ok && h.assets.sourceMaps {
		sourceMap = url.PathEscape(path.Base(file) + ".map")
	}
	send(req, resp, a, sourceMap)
	return nil
}

// isSourceMap reports whether file is a source map.
func isSourceMap(file string) bool {
	return path.Ext(file) == ".map"
}
