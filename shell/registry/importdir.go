package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/collage-dev/collage/build"
)

// Imported is what ImportDir did with one frontend of a build.
type Imported struct {
	Frontend, Label string
	Created         bool // a version the store did not hold
	Promoted        bool // made active
}

// ImportDir publishes the build in dir (the output of collage build: its
// collage.json and the versions it names) as releases: one per descriptor
// of frontends, with its bundle when the build has one, and one of the
// shared dependencies. It promotes each release it creates, and the
// release of a frontend with no active version. Importing the same build
// again changes nothing, so a restart never undoes a promote made since.
// A folder that does not exist is a build without bundles.
func ImportDir(ctx context.Context, st Store, blobs Blobs, dir string, frontends map[string]Descriptor, by string) ([]Imported, error) {
	idx, err := build.ReadIndex(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		idx = &build.Index{}
	case err != nil:
		return nil, err
	}
	type item struct {
		d       Descriptor
		version string // of the bundle in dir; "" for none
	}
	var items []item
	if idx.Shared != "" {
		items = append(items, item{Descriptor{Frontend: build.SharedName}, idx.Shared})
	}
	for _, name := range slices.Sorted(maps.Keys(frontends)) {
		items = append(items, item{frontends[name], idx.Frontends[name]})
	}
	for name := range idx.Frontends {
		if _, ok := frontends[name]; !ok {
			return nil, fmt.Errorf("%s: frontend %s is not in the config: build the frontends the config names", filepath.Join(dir, build.IndexFile), name)
		}
	}
	var out []Imported
	for _, it := range items {
		r := &Release{Frontend: it.d.Frontend, Label: it.d.Label, BFF: it.d.BFF, Settings: it.d.Settings, PublishedBy: by}
		files := os.DirFS(dir)
		if it.version != "" {
			if !build.ValidVersion(it.version) {
				return nil, fmt.Errorf("%s: %s has an invalid version %q", filepath.Join(dir, build.IndexFile), it.d.Frontend, it.version)
			}
			vdir := filepath.Join(dir, "assets", it.d.Frontend, it.version)
			if r.Manifest, err = build.ReadManifest(vdir); err != nil {
				return nil, fmt.Errorf("frontend %s version %s: %w", it.d.Frontend, it.version, err)
			}
			files = os.DirFS(vdir)
		}
		rel, created, err := Publish(ctx, st, blobs, r, files)
		if err != nil {
			return nil, fmt.Errorf("importing %s from %s: %w", it.d.Frontend, dir, err)
		}
		im := Imported{Frontend: rel.Frontend, Label: rel.Label, Created: created}
		f, _, err := st.List(ctx, rel.Frontend)
		if err != nil {
			return nil, err
		}
		if f.Active != rel.Label && (created || f.Active == "") {
			if _, err := st.Promote(ctx, Move{Frontend: rel.Frontend, Label: rel.Label, Expect: f.Active, By: by}); err != nil {
				return nil, fmt.Errorf("importing %s from %s: %w", it.d.Frontend, dir, err)
			}
			im.Promoted = true
		}
		out = append(out, im)
	}
	return out, nil
}
