// Package fsnotify watches a project's folders for changes, for collage dev.
// It is the only package that imports github.com/fsnotify/fsnotify.
//
// A Watcher watches a folder and every folder under it, those made later
// too, and reports the path of each file or folder that is created,
// written, removed or renamed, relative to the folder. It does not wait
// for quiet: an editor's save is often several events, which the caller
// gathers.
package fsnotify
