// Package registry holds which version of every frontend the shell serves.
// The request path reads an in-memory snapshot, swapped atomically; it
// never waits on a store.
package registry

import (
	"sync/atomic"
	"time"

	"github.com/collage-dev/collage/build"
)

// Snapshot is the set of versions served at one moment. It is never changed
// once published; a change publishes a new Snapshot.
type Snapshot struct {
	// Revision is the store's revision the snapshot was made from.
	Revision  uint64
	Shared    *build.Manifest            // nil when no frontend has a client bundle
	Frontends map[string]*build.Manifest // by frontend name, only those with a client bundle
	// Versions are the labels of the active releases, by frontend: the
	// versions a page is rendered with. Shared by every page: read only.
	Versions map[string]string
	// Served are the releases a page may still reach, by frontend and
	// label: the active ones, those in a canary, and those the retention
	// keeps, so that a page rendered before a promote keeps its assets and
	// its BFF.
	Served map[string]map[string]*Release
	// Canaries are the canaries running, by frontend.
	Canaries map[string]Canary
	// Previews are the versions open to the holders of a preview link, by
	// frontend and label. A preview's version is served (its files, its
	// BFF) but reaches a page, or a pinned /bff call, only with its link.
	Previews map[string]map[string]Preview
	// bundles index Served by frontend and manifest version, for the
	// assets.
	bundles map[string]map[string]*Release
	// previewOnly are the versions in Served for a preview alone.
	previewOnly map[string]map[string]bool
}

// Release returns the release frontend/label if it is served, or nil.
func (s *Snapshot) Release(frontend, label string) *Release {
	return s.Served[frontend][label]
}

// Blob returns the blob key of file in the bundle version of frontend,
// when a served release holds it.
func (s *Snapshot) Blob(frontend, version, file string) (string, bool) {
	r := s.bundles[frontend][version]
	if r == nil {
		return "", false
	}
	key, ok := r.Blobs[file]
	return key, ok
}

// Registry holds the current Snapshot, and how well it keeps up with its
// store.
type Registry struct {
	cur  atomic.Pointer[Snapshot]
	sync atomic.Pointer[Sync]
}

// Sync says how the snapshot keeps up with the store.
type Sync struct {
	// Checked is when the snapshot was last found current: made from the
	// store, or its revision found to be the store's.
	Checked time.Time
	// Err is why the store could not be read since, if it could not.
	Err error
	// Failing is when the store began to fail; zero while it answers.
	Failing time.Time
}

// Checked records that the snapshot is current at t.
func (r *Registry) Checked(t time.Time) { r.sync.Store(&Sync{Checked: t}) }

// Failed records that the store could not be read at t, because of err:
// the snapshot served may be stale.
func (r *Registry) Failed(err error, t time.Time) {
	s := Sync{Err: err, Failing: t}
	if old := r.sync.Load(); old != nil {
		s.Checked = old.Checked
		if !old.Failing.IsZero() {
			s.Failing = old.Failing
		}
	}
	r.sync.Store(&s)
}

// Sync returns how the snapshot keeps up with the store; zero before the
// first check.
func (r *Registry) Sync() Sync {
	if s := r.sync.Load(); s != nil {
		return *s
	}
	return Sync{}
}

// New returns a Registry serving s.
func New(s *Snapshot) *Registry {
	r := &Registry{}
	r.Set(s)
	return r
}

// Current returns the snapshot being served.
func (r *Registry) Current() *Snapshot { return r.cur.Load() }

// Set makes s the snapshot being served.
func (r *Registry) Set(s *Snapshot) {
	if s.Frontends == nil {
		s.Frontends = map[string]*build.Manifest{}
	}
	if s.bundles == nil {
		s.index()
	}
	r.cur.Store(s)
}
