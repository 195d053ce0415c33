// Package registry holds which version of every frontend the shell serves.
// The request path reads an in-memory snapshot, swapped atomically; it
// never waits on a store.
package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/collage-dev/collage/build"
)

// Snapshot is the set of versions served at one moment. It is never changed
// once published; a change publishes a new Snapshot.
type Snapshot struct {
	Shared    *build.Manifest            // nil when no frontend has a client bundle
	Frontends map[string]*build.Manifest // by frontend name, only those with a client bundle
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
	r.cur.Store(s)
}

// LoadDir reads the snapshot of a build output folder (its collage.json and
// the manifests it names). A folder that does not exist is an empty snapshot:
// a shell may serve only server fragments.
func LoadDir(dir string) (*Snapshot, error) {
	s := &Snapshot{Frontends: map[string]*build.Manifest{}}
	idx, err := build.ReadIndex(dir)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	read := func(name, version string) (*build.Manifest, error) {
		if !build.ValidVersion(version) {
			return nil, fmt.Errorf("%s: %s has an invalid version %q", filepath.Join(dir, build.IndexFile), name, version)
		}
		m, err := build.ReadManifest(filepath.Join(dir, "assets", name, version))
		if err != nil {
			return nil, fmt.Errorf("frontend %s version %s: %w", name, version, err)
		}
		return m, nil
	}
	if idx.Shared != "" {
		if s.Shared, err = read(build.SharedName, idx.Shared); err != nil {
			return nil, err
		}
	}
	for name, version := range idx.Frontends {
		if s.Frontends[name], err = read(name, version); err != nil {
			return nil, err
		}
	}
	return s, nil
}
