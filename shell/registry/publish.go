package registry

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"slices"

	"github.com/collage-dev/collage/bff"
)

// Publish writes the files of r's manifest from files into blobs, each
// checked against the manifest's integrity, and only then adds r to st, in
// one transaction. A crash at any point leaves either the whole release or
// no release visible: blobs without a release are unreachable, and a
// release is written only once each of its blobs is durable.
func Publish(ctx context.Context, st Store, blobs Blobs, r *Release, files fs.FS) (*Release, bool, error) {
	rel := *r
	rel.Blobs = nil
	if m := rel.Manifest; m != nil {
		rel.Blobs = make(map[string]string, len(m.Files))
		for _, name := range slices.Sorted(maps.Keys(m.Files)) {
			f, err := files.Open(name)
			if errors.Is(err, fs.ErrNotExist) {
				return nil, false, badRequest("manifest names %s, which the bundle does not hold", name)
			}
			if err != nil {
				return nil, false, err
			}
			key, err := blobs.Put(ctx, f, m.Files[name].Integrity)
			f.Close()
			if err != nil {
				return nil, false, addFile(name, err)
			}
			rel.Blobs[name] = key
		}
	}
	return st.Publish(ctx, &rel)
}

// addFile names the file at fault in a coded error's message.
func addFile(name string, err error) error {
	var e *bff.Error
	if errors.As(err, &e) {
		c := *e
		c.Message = name + ": " + c.Message
		return &c
	}
	return err
}
