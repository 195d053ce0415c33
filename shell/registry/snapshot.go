package registry

import (
	"time"

	"github.com/collage-dev/collage/build"
)

// NewSnapshot is what a replica serves of st: the active release of every
// frontend, and the earlier versions keep retains for the pages rendered
// with them.
func NewSnapshot(st *State, keep Retention, now time.Time) *Snapshot {
	s := &Snapshot{Revision: st.Revision, Frontends: map[string]*build.Manifest{},
		Versions: map[string]string{}, Served: map[string]map[string]*Release{}, Canaries: map[string]Canary{},
		Previews: map[string]map[string]Preview{}, previewOnly: map[string]map[string]bool{}}
	for name, f := range st.Frontends {
		rels := st.Releases[name]
		served := map[string]*Release{}
		if a := rels[f.Active]; a != nil {
			served[f.Active] = a
			switch {
			case name == build.SharedName:
				s.Shared = a.Manifest
			case a.Manifest != nil:
				s.Frontends[name] = a.Manifest
			}
			if name != build.SharedName {
				s.Versions[name] = f.Active
			}
		}
		for _, label := range keep.Retained(f, rels, now) {
			served[label] = rels[label]
		}
		if c := f.Canary; c != nil && rels[c.Label] != nil && name != build.SharedName {
			served[c.Label] = rels[c.Label]
			s.Canaries[name] = *c
		}
		for label, p := range f.Previews {
			if r := rels[label]; r != nil && !r.Yanked && p.Until.After(now) {
				if s.Previews[name] == nil {
					s.Previews[name] = map[string]Preview{}
				}
				s.Previews[name][label] = p
				if served[label] == nil {
					served[label] = r
					if s.previewOnly[name] == nil {
						s.previewOnly[name] = map[string]bool{}
					}
					s.previewOnly[name][label] = true
				}
			}
		}
		if len(served) > 0 {
			s.Served[name] = served
		}
	}
	s.index()
	return s
}

// PreviewOnly reports whether version label of frontend is served only to
// the holders of its preview link: neither active, nor in a canary, nor
// retained.
func (s *Snapshot) PreviewOnly(frontend, label string) bool {
	return s.previewOnly[frontend][label]
}

// index makes bundles from Served.
func (s *Snapshot) index() {
	s.bundles = map[string]map[string]*Release{}
	for name, versions := range s.Served {
		for _, r := range versions {
			if r.Manifest == nil {
				continue
			}
			if s.bundles[name] == nil {
				s.bundles[name] = map[string]*Release{}
			}
			s.bundles[name][r.Manifest.Version] = r
		}
	}
}
