// Package registry holds which version of every frontend the shell serves.
// The request path reads an in-memory snapshot, swapped atomically; it
// never waits on a store.
package registry

import (
	"sync/atomic"

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
	// label: the active ones and those the retention keeps, so that a page
	// rendered before a promote keeps its assets and its BFF.
	Served map[string]map[string]*Release
	// bundles index Served by frontend and manifest version, for the
	// assets.
	bundles map[string]map[string]*Release
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

// Registry holds the current Snapshot.
type Registry struct {
	cur atomic.Pointer[Snapshot]
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
