// Package replica keeps one shell's in-memory snapshot of the registry in
// step with the store: it loads the store's state, makes the snapshot,
// binds the BFFs of its versions and swaps it in, so that the request
// path reads memory and never waits on the store. It also collects the
// blobs no version needs.
package replica

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// Options make a Replica.
type Options struct {
	Store    registry.Store
	Blobs    registry.Blobs
	Registry *registry.Registry
	Releases *shell.Releases
	// Retention is how long versions stay servable once replaced.
	// Optional. Default: registry.Retention's defaults.
	Retention registry.Retention
	// Poll is how often the replica checks the store's revision, to catch
	// what a watch missed. Optional. Default: 2s.
	Poll time.Duration
	// Every is how often the replica remakes its snapshot (versions age
	// out of the retention) and collects blobs. Optional. Default: 10m.
	Every time.Duration
	// Grace is how old an unreferenced blob must be to be collected, so
	// that a publish in flight, whose blobs come before its release, keeps
	// them. Optional. Default: 1h.
	Grace time.Duration
	// Log receives the changes of snapshot and what is collected.
	// Optional. Default: slog.Default().
	Log *slog.Logger
	// Now tells the time. Optional. Default: time.Now.
	Now func() time.Time
	// Judge says when a canary ends by itself.
	Judge JudgeOptions
}

// Replica keeps a Registry in step with a Store.
type Replica struct {
	o     Options
	mu    sync.Mutex // one reload at a time, so that snapshots go forward
	judge judge
	// catching makes CatchUps look at the store one at a time; caught is
	// when the last look began.
	catching sync.Mutex
	caught   time.Time
}

// New returns a replica; call Reload before serving.
func New(o Options) *Replica {
	if o.Poll == 0 {
		o.Poll = 2 * time.Second
	}
	if o.Every == 0 {
		o.Every = 10 * time.Minute
	}
	if o.Grace == 0 {
		o.Grace = time.Hour
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Judge = o.Judge.withDefaults()
	return &Replica{o: o, judge: judge{o: o.Judge, totals: map[string]map[string]int64{}}}
}

// Reload makes the snapshot of the store's state and serves it. A version
// whose BFF cannot be bound is logged and served through its frontend's
// default invoker.
func (r *Replica) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, err := r.o.Store.Load(ctx)
	if err != nil {
		return err
	}
	if cur := r.o.Registry.Current().Revision; st.Revision < cur {
		return behind(st.Revision, cur)
	}
	snap := registry.NewSnapshot(st, r.o.Retention, r.o.Now())
	if err := r.o.Releases.Install(snap); err != nil {
		r.o.Log.Error("binding the BFFs of the registry's versions", "revision", snap.Revision, "err", err)
	}
	if old := r.o.Registry.Current(); old.Revision != snap.Revision {
		r.o.Log.Info("registry snapshot", "revision", snap.Revision, "versions", snap.Versions)
	}
	r.o.Registry.Set(snap)
	r.checked()
	return nil
}

// behind is the error of a store whose revision went back: it lost
// changes, as a Redis restarted without persistence does. The replica keeps
// the snapshot it serves rather than drop every version, and says why.
func behind(rev, served uint64) error {
	return fmt.Errorf("the store is at revision %d, behind the %d served: it lost changes (a Redis restarted without persistence?); "+
		"serving the last snapshot, refusing changes; restore the store, or restart the shells to import their builds again", rev, served)
}

// checked records that the snapshot is current, and says so in the log if
// the store had failed.
func (r *Replica) checked() {
	if s := r.o.Registry.Sync(); s.Err != nil {
		r.o.Log.Info("the registry's store answers again", "failed_for", r.o.Now().Sub(s.Failing).Round(time.Millisecond))
	}
	r.o.Registry.Checked(r.o.Now())
}

// failed records that the store could not be read, and says so in the log
// when it begins.
func (r *Replica) failed(err error) {
	if r.o.Registry.Sync().Err == nil {
		r.o.Log.Error("the registry's store does not answer: serving the last snapshot", "revision", r.o.Registry.Current().Revision, "err", err)
	}
	r.o.Registry.Failed(err, r.o.Now())
}

// sync reloads the snapshot when the store's revision is not its own, or
// always when remake is set.
func (r *Replica) sync(ctx context.Context, remake bool) {
	rev, err := r.o.Store.Revision(ctx)
	switch {
	case err != nil:
		r.failed(err)
	case rev < r.o.Registry.Current().Revision:
		r.failed(behind(rev, r.o.Registry.Current().Revision))
	case !remake && rev == r.o.Registry.Current().Revision:
		r.checked()
	default:
		if err := r.Reload(ctx); err != nil {
			r.failed(err)
		}
	}
}

// CatchUp reloads the snapshot at once if the store has moved past it, for
// a request that names what another replica has just changed (a preview
// link, a new version's asset, a call pinned to it): it need not wait for
// the watch or the poll. It returns once a look at the store that began
// after the call has been made: the CatchUps of one moment share it, and
// requests naming what no replica made read the store one at a time.
// While the store fails, it returns at once: Run's poll finds when the
// store answers again.
func (r *Replica) CatchUp(ctx context.Context) {
	asked := time.Now()
	r.catching.Lock()
	defer r.catching.Unlock()
	if r.caught.After(asked) || r.o.Registry.Sync().Err != nil {
		return // another's look began after this one was asked, or the store is down
	}
	r.caught = time.Now()
	r.sync(ctx, false)
}

// Collect deletes the blobs that no version of the store references and
// that are older than grace, and the leftovers of publishes that did not
// finish. A grace of zero is for a process that holds the store alone and
// publishes nothing yet, at its start: what a crash left is collected at
// once.
func (r *Replica) Collect(ctx context.Context, grace time.Duration) (registry.Swept, error) {
	st, err := r.o.Store.Load(ctx)
	if err != nil {
		return registry.Swept{}, err
	}
	keep := registry.Referenced(st)
	swept, err := r.o.Blobs.Sweep(ctx, func(key string) bool { return keep[key] }, r.o.Now().Add(-grace))
	if err == nil && (swept.Blobs > 0 || swept.Temp > 0) {
		r.o.Log.Info("collected blobs", "blobs", swept.Blobs, "bytes", swept.Bytes, "temporary", swept.Temp)
	}
	return swept, err
}

// Run keeps the snapshot current until ctx is done. It reloads when the
// store's revision moves: at once when the store tells (a
// registry.Watcher), and within Options.Poll in any case, since a watch
// misses what is sent while it is disconnected. Every Options.Every it
// remakes the snapshot (versions age out of the retention) and collects
// blobs. While the store does not answer, the last snapshot keeps serving
// and the registry says why (Registry.Sync).
func (r *Replica) Run(ctx context.Context) {
	changed := make(chan struct{}, 1)
	if w, ok := r.o.Store.(registry.Watcher); ok {
		go r.watch(ctx, w, changed)
	}
	poll, every, judge := time.NewTicker(r.o.Poll), time.NewTicker(r.o.Every), time.NewTicker(r.o.Judge.Every)
	defer poll.Stop()
	defer every.Stop()
	defer judge.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			r.sync(ctx, false)
		case <-poll.C:
			r.sync(ctx, false)
		case <-judge.C:
			r.judgeCanaries(ctx)
		case <-every.C:
			r.sync(ctx, true)
			if _, err := r.Collect(ctx, r.o.Grace); err != nil {
				r.o.Log.Error("collecting blobs", "err", err)
			}
		}
	}
}

// watch tells changed of every change w reports, watching again a second
// after each failure, until ctx is done.
func (r *Replica) watch(ctx context.Context, w registry.Watcher, changed chan struct{}) {
	for {
		err := w.Watch(ctx, func() {
			select {
			case changed <- struct{}{}:
			default: // a reload is due already
			}
		})
		if ctx.Err() != nil {
			return
		}
		r.o.Log.Warn("watching the registry's store", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
