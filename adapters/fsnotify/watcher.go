package fsnotify

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// Options say what a Watcher watches.
type Options struct {
	// Skip reports whether the folder rel (relative to the root,
	// slash-separated) is left unwatched, with everything under it.
	// Optional. Default: none is skipped.
	Skip func(rel string) bool
	// Also are folders, relative to the root and slash-separated, watched
	// by themselves (not the folders under them) even where Skip leaves
	// their parent out, such as node_modules/preact. One that does not
	// exist is watched once it is made, if its parent is watched.
	// Optional. Default: none.
	Also []string
}

// Lost is the path a Watcher reports when the system dropped events: any
// file may have changed.
const Lost = "."

// A Watcher reports the changes under a folder.
type Watcher struct {
	w    *fsnotify.Watcher
	root string
	opts Options
}

// New watches root and the folders under it, and each of opts.Also that
// exists. Changes are reported from the moment New returns, by Run.
func New(root string, opts Options) (*Watcher, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &Watcher{w: fw, root: abs, opts: opts}
	if err := w.addTree(abs, nil); err != nil {
		fw.Close()
		return nil, err
	}
	for _, rel := range opts.Also {
		if err := fw.Add(filepath.Join(abs, filepath.FromSlash(rel))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			fw.Close()
			return nil, err
		}
	}
	return w, nil
}

// Run calls changed with the path of every file or folder created, written,
// removed or renamed, relative to the root and slash-separated (Lost when
// events were dropped), one call at a time, until ctx is done; then it
// stops watching. A folder made under a watched one is watched at once,
// and each file already in it reported, since it may have been written
// before its watch began. Run returns nil once ctx is done, or the error
// that stopped the watch.
func (w *Watcher) Run(ctx context.Context, changed func(path string)) error {
	defer w.w.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.w.Errors:
			if !ok {
				return nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				return err
			}
			changed(Lost)
		case ev, ok := <-w.w.Events:
			if !ok {
				return nil
			}
			w.event(ev, changed)
		}
	}
}

// Close stops watching, when Run does not run.
func (w *Watcher) Close() error { return w.w.Close() }

func (w *Watcher) event(ev fsnotify.Event, changed func(string)) {
	if ev.Op == fsnotify.Chmod {
		return // a touch of the metadata: the content is the same
	}
	rel, ok := w.rel(ev.Name)
	if !ok {
		return
	}
	if ev.Has(fsnotify.Create) {
		if info, err := os.Stat(ev.Name); err == nil && info.IsDir() {
			switch {
			case slices.Contains(w.opts.Also, rel):
				w.w.Add(ev.Name)
			case !w.skipped(rel):
				// What was written before the watch began is reported too.
				w.addTree(ev.Name, changed)
			}
		}
	}
	changed(rel)
}

// rel is path relative to the root, slash-separated.
func (w *Watcher) rel(path string) (string, bool) {
	rel, err := filepath.Rel(w.root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// skipped reports whether Skip leaves the folder rel out, or one above it.
func (w *Watcher) skipped(rel string) bool {
	if w.opts.Skip == nil {
		return false
	}
	for p := rel; p != "." && p != ""; p = pathDir(p) {
		if w.opts.Skip(p) {
			return true
		}
	}
	return false
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}

// addTree watches dir and every folder under it that Skip keeps, and
// reports each file found when found is not nil.
func (w *Watcher) addTree(dir string, found func(string)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walked
			}
			return err
		}
		rel, _ := w.rel(path)
		if !d.IsDir() {
			if found != nil {
				found(rel)
			}
			return nil
		}
		if path != w.root && w.opts.Skip != nil && w.opts.Skip(rel) {
			return filepath.SkipDir
		}
		if err := w.w.Add(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}
