package shell

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

// A BindFunc makes the invoker of a release's BFF target: "local" for a BFF
// linked into the binary, made with the release's settings, or the URL or
// Lambda ARN of one version of a remote BFF. It is called for every
// version served at each snapshot, so it should return the invoker it made
// before for the same target and settings: versions that share them share
// one connection pool, or one linked BFF and its state.
type BindFunc func(frontend string, r *registry.Release) (invoke.Invoker, error)

// Invokers find the invoker of one version of a frontend's BFF.
type Invokers interface {
	// Invoker returns the invoker of frontend's version label: of its
	// active version when label is "" or no longer served. ok is false for
	// a frontend the shell does not know.
	Invoker(frontend, label string) (inv invoke.Invoker, ok bool)
}

// Releases keeps the invoker of every version the registry serves, so that
// a page's fragments and its /bff calls reach the BFF of the version the
// page was rendered with, even after a promote. It is safe for concurrent
// use.
type Releases struct {
	frontends map[string]Frontend
	bind      BindFunc
	cur       atomic.Pointer[binding]
	onInstall []func(*registry.Snapshot)
}

// OnInstall has f called, in a goroutine of its own, with each snapshot
// Install makes ready: to load what its versions need before a page does,
// such as the server bundles of their components (Components.Warm). Call
// it before the first Install.
func (r *Releases) OnInstall(f func(*registry.Snapshot)) {
	r.onInstall = append(r.onInstall, f)
}

// binding is the invokers of one snapshot.
type binding struct {
	active map[string]string                    // the active label, by frontend
	served map[string]map[string]invoke.Invoker // by frontend, then label
}

// NewReleases returns the invokers of frontends' releases, made by bind. A
// frontend with no release (nothing published yet), or every frontend when
// bind is nil, is reached through its Frontend.Invoker.
func NewReleases(frontends map[string]Frontend, bind BindFunc) *Releases {
	r := &Releases{frontends: frontends, bind: bind}
	r.cur.Store(&binding{})
	return r
}

// Install makes the invokers of the releases snap serves, then serves
// them: call it before the snapshot reaches the registry, so that a page
// rendered with a version finds its BFF. A release whose target cannot be
// bound is left out, reached through its frontend's default invoker, and
// named in the error.
func (r *Releases) Install(snap *registry.Snapshot) error {
	b := &binding{active: snap.Versions, served: map[string]map[string]invoke.Invoker{}}
	var errs []error
	for name, versions := range snap.Served {
		if _, ok := r.frontends[name]; !ok || r.bind == nil {
			continue
		}
		m := make(map[string]invoke.Invoker, len(versions))
		for label, rel := range versions {
			inv, err := r.bind(name, rel)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: BFF %q: %w", name, label, rel.BFF, err))
				continue
			}
			m[label] = inv
		}
		b.served[name] = m
	}
	r.cur.Store(b)
	for _, f := range r.onInstall {
		go f(snap)
	}
	return errors.Join(errs...)
}

// Invoker implements Invokers.
func (r *Releases) Invoker(frontend, label string) (invoke.Invoker, bool) {
	f, ok := r.frontends[frontend]
	if !ok {
		return nil, false
	}
	b := r.cur.Load()
	versions := b.served[frontend]
	if inv, ok := versions[label]; ok && label != "" {
		return inv, true
	}
	if inv, ok := versions[b.active[frontend]]; ok {
		return inv, true
	}
	return f.Invoker, true
}
