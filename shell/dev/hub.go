package dev

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// EventsPath is where a page follows the dev server's events.
const EventsPath = shell.DevPrefix + "events"

// HubOptions make a Hub.
type HubOptions struct {
	// Current is the registry's snapshot. A page that connects is told of
	// each version it was not rendered with, which it may have missed
	// while it loaded.
	Current func() *registry.Snapshot
	// MaxStream is how long one stream lasts before the page connects
	// again, asking for what it missed: less than the edge's write
	// timeout, which would cut it. Optional. Default: 25s.
	MaxStream time.Duration
	// Heartbeat is how often an idle stream sends a comment, so that a
	// page gone is noticed. Optional. Default: 15s.
	Heartbeat time.Duration
	// Retry is how long a page waits before it connects again.
	// Optional. Default: 500ms.
	Retry time.Duration
}

// ringSize is how many events a Hub keeps for the pages that connect
// again: one that missed more reloads.
const ringSize = 256

// connBuffer is how many events may wait for a slow page; past it the
// page is dropped, and connects again for what it missed.
const connBuffer = 64

// A Hub sends collage dev's events to the pages, one server-sent events
// stream per page at EventsPath, and keeps the problems that stand, so
// that a page that loads is told of them. It is a shell.Service, safe for
// concurrent use.
type Hub struct {
	o        HubOptions
	instance string // tells the events of this process from another's

	mu       sync.Mutex
	seq      uint64
	ring     []*event // the last events, oldest first
	conns    map[*conn]bool
	problems map[problemKey]Problem
	panics   map[string]bffPanic // the last of each BFF's fragment, for its fetch
	closed   bool
}

// event is one event, encoded.
type event struct {
	id   uint64
	name string
	data []byte
	path string // told only to the pages of this path; "" to every page
}

// problemKey is what a Problem replaces: the one of the same source,
// frontend and page.
type problemKey struct{ source, frontend, path string }

// conn is one page's stream.
type conn struct {
	path string
	ch   chan *event
	gone chan struct{} // closed when the hub drops the page
}

// NewHub returns a hub; Close it when the server stops.
func NewHub(o HubOptions) *Hub {
	if o.MaxStream == 0 {
		o.MaxStream = 25 * time.Second
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Retry == 0 {
		o.Retry = 500 * time.Millisecond
	}
	if o.Current == nil {
		empty := &registry.Snapshot{}
		o.Current = func() *registry.Snapshot { return empty }
	}
	var b [6]byte
	rand.Read(b[:])
	return &Hub{o: o, instance: hex.EncodeToString(b[:]), conns: map[*conn]bool{},
		problems: map[problemKey]Problem{}, panics: map[string]bffPanic{}}
}

// Update tells every page of a frontend's new version.
func (h *Hub) Update(u Update) { h.send(EventUpdate, u, "") }

// Reload asks every page to reload.
func (h *Hub) Reload() { h.send(EventReload, struct{}{}, "") }

// Problem tells the pages of p, and keeps it for those that load while
// it stands: every page, or those of p.Path for a fragment's. It replaces
// the problem of the same source, frontend and path.
func (h *Hub) Problem(p Problem) {
	k := problemKey{p.Source, p.Frontend, p.Path}
	h.mu.Lock()
	if old, ok := h.problems[k]; ok && old == p {
		h.mu.Unlock()
		return // the pages know
	}
	h.problems[k] = p
	h.mu.Unlock()
	h.send(EventError, p, p.Path)
}

// Clear ends the problems of source and frontend (and of the pages of
// path, for fragments), and tells the pages if there were some.
func (h *Hub) Clear(source, frontend, path string) {
	k := problemKey{source, frontend, path}
	h.mu.Lock()
	_, ok := h.problems[k]
	delete(h.problems, k)
	h.mu.Unlock()
	if ok {
		h.send(EventClear, Clear{Source: source, Frontend: frontend, Path: path}, path)
	}
}

// Close ends every stream, and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.conns {
		h.drop(c)
	}
}

// send encodes an event and tells the pages of path (every page for "").
func (h *Hub) send(name string, v any, path string) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // the events are plain structs
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev := &event{id: h.seq, name: name, data: data, path: path}
	if len(h.ring) == ringSize {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:ringSize-1]
	}
	h.ring = append(h.ring, ev)
	for c := range h.conns {
		if path != "" && c.path != path {
			continue
		}
		select {
		case c.ch <- ev:
		default:
			h.drop(c) // too slow: it connects again for what it missed
		}
	}
}

// drop ends c's stream. h.mu is held.
func (h *Hub) drop(c *conn) {
	if h.conns[c] {
		delete(h.conns, c)
		close(c.gone)
	}
}

// Serve implements shell.Service: GET EventsPath?path=P&versions=V&shared=S
// opens a page's stream. P is the page's path and query; V the versions
// it was rendered with (its collage-versions meta); S the version of the
// shared dependencies its import map names.
func (h *Hub) Serve(req shell.Request, resp shell.Response) {
	resp.SetHeader("Cache-Control", "no-store")
	if e := h.serve(req, resp); e != nil {
		resp.SetHeader("Content-Type", "application/json")
		resp.Send(e.StatusCode(), append(e.JSON(), '\n'))
	}
}

func (h *Hub) serve(req shell.Request, resp shell.Response) *bff.Error {
	if req.Path() != EventsPath {
		return &bff.Error{Code: bff.CodeNotFound, Message: fmt.Sprintf("no dev service at %s: the events are at %s", req.Path(), EventsPath)}
	}
	if m := req.Method(); m != http.MethodGet {
		resp.SetHeader("Allow", http.MethodGet)
		return &bff.Error{Code: bff.CodeMethodNotAllowed, Message: m + " " + EventsPath + ": use GET"}
	}
	// The query may live in the binding's buffers: the page's path outlives
	// the request.
	q, err := url.ParseQuery(strings.Clone(req.RawQuery()))
	if err != nil {
		return &bff.Error{Code: bff.CodeBadRequest, Message: "the query: " + err.Error()}
	}
	versions, err := url.ParseQuery(q.Get("versions"))
	if err != nil {
		return &bff.Error{Code: bff.CodeBadRequest, Field: "versions", Message: "versions: " + err.Error()}
	}
	c := &conn{path: q.Get("path"), ch: make(chan *event, connBuffer), gone: make(chan struct{})}
	first, refused := h.connect(c, versions, q.Get("shared"), strings.Clone(req.Header("Last-Event-ID")))
	if refused != nil {
		return refused
	}
	resp.SetHeader("Content-Type", "text/event-stream")
	resp.SetHeader("X-Content-Type-Options", "nosniff")
	resp.Stream(http.StatusOK, &stream{h: h, c: c, first: first}, -1)
	return nil
}

// connect registers c and returns what it is told first: what it missed
// since lastID, or, for a page that connects for the first time, the
// versions it was not rendered with and the problems that stand.
func (h *Hub) connect(c *conn, versions url.Values, shared, lastID string) ([]byte, *bff.Error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, &bff.Error{Code: bff.CodeServiceUnavailable, Message: "collage dev is stopping"}
	}
	var b []byte
	b = fmt.Appendf(b, "retry: %d\n\n", h.o.Retry.Milliseconds())
	if lastID != "" {
		instance, n, _ := strings.Cut(lastID, ".")
		seq, err := strconv.ParseUint(n, 10, 64)
		if instance != h.instance || err != nil || seq > h.seq || len(h.ring) > 0 && seq+1 < h.ring[0].id {
			// Another process's events, or too many missed.
			b = appendEvent(b, &event{id: h.seq, name: EventReload, data: []byte("{}")}, h.instance)
		} else {
			for _, ev := range h.ring {
				if ev.id > seq && (ev.path == "" || ev.path == c.path) {
					b = appendEvent(b, ev, h.instance)
				}
			}
		}
	} else {
		for _, ev := range h.catchUp(c, versions, shared) {
			b = appendEvent(b, ev, "")
		}
		// The id alone dispatches nothing: it is the one the page sends
		// when it connects again.
		b = fmt.Appendf(b, "id: %s.%d\n\n", h.instance, h.seq)
	}
	h.conns[c] = true
	return b, nil
}

// catchUp is what a page that connects for the first time is told. h.mu
// is held.
func (h *Hub) catchUp(c *conn, versions url.Values, shared string) []*event {
	var out []*event
	add := func(name string, v any) {
		data, _ := json.Marshal(v)
		out = append(out, &event{name: name, data: data})
	}
	snap := h.o.Current()
	reload := shared != "" && (snap.Shared == nil || snap.Shared.Version != shared)
	for name := range versions {
		if snap.Frontends[name] == nil {
			reload = true // its bundle is gone
		}
	}
	if reload {
		add(EventReload, struct{}{})
		return out
	}
	for name, m := range snap.Frontends {
		if label := snap.Versions[name]; versions.Get(name) != label {
			add(EventUpdate, newUpdate(name, label, m))
		}
	}
	for k, p := range h.problems {
		if k.path == "" || k.path == c.path {
			add(EventError, p)
		}
	}
	return out
}

// appendEvent appends ev in the stream's format, with its id unless
// instance is "".
func appendEvent(b []byte, ev *event, instance string) []byte {
	if instance != "" {
		b = fmt.Appendf(b, "id: %s.%d\n", instance, ev.id)
	}
	b = fmt.Appendf(b, "event: %s\ndata: %s\n\n", ev.name, ev.data)
	return b
}

// stream is one page's stream, the body of its response.
type stream struct {
	h     *Hub
	c     *conn
	first []byte

	once sync.Once
	pipe *io.PipeReader // for a binding that reads rather than lets it write
}

// WriteTo writes the stream to w, each event in one Write, until the page
// goes, the hub drops it, or MaxStream has passed.
func (s *stream) WriteTo(w io.Writer) (int64, error) {
	var n int64
	write := func(b []byte) error {
		k, err := w.Write(b)
		n += int64(k)
		return err
	}
	if err := write(s.first); err != nil {
		return n, err
	}
	beat := time.NewTicker(s.h.o.Heartbeat)
	defer beat.Stop()
	end := time.NewTimer(s.h.o.MaxStream)
	defer end.Stop()
	for {
		var err error
		select {
		case ev := <-s.c.ch:
			err = write(appendEvent(nil, ev, s.h.instance))
		case <-beat.C:
			err = write([]byte(":\n\n"))
		case <-s.c.gone:
			return n, nil
		case <-end.C:
			return n, nil // the page connects again with the last id it saw
		}
		if err != nil {
			return n, err
		}
	}
}

// Read serves a binding that reads the body: the stream writes into a
// pipe.
func (s *stream) Read(p []byte) (int, error) {
	s.once.Do(func() {
		pr, pw := io.Pipe()
		s.pipe = pr
		go func() {
			_, err := s.WriteTo(pw)
			pw.CloseWithError(err)
		}()
	})
	return s.pipe.Read(p)
}

// Close ends the stream: the hub forgets the page.
func (s *stream) Close() error {
	s.h.mu.Lock()
	s.h.drop(s.c)
	s.h.mu.Unlock()
	if s.pipe != nil {
		s.pipe.Close()
	}
	return nil
}

var _ shell.Service = (*Hub)(nil)
