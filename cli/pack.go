package cli

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collage-dev/collage/adapters/esbuild"
	"github.com/collage-dev/collage/adapters/yaml"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) pack(args []string) error {
	fset := m.flags("pack frontends/NAME | --shared", "Builds one frontend, alone and minified, into a temporary folder (never dist/), and\nwrites the archive of its release: NAME-LABEL.tar.gz, or --out. Prints the archive's path.\nWith --shared, builds the shared dependencies alone into _shared-LABEL.tar.gz.\nThe archive's format is in docs/API.md.")
	var o packOptions
	o.flags(fset)
	fset.StringVar(&o.out, "out", "", "the archive to write (default NAME-LABEL.tar.gz in the current folder)")
	fset.BoolVar(&o.shared, "shared", false, "pack the shared dependencies (preact and the like) as the release _shared, instead of a frontend")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if o.shared && len(pos) > 0 || !o.shared && len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("pack: want one frontend folder, such as frontends/cart, or --shared alone; got %d arguments", len(pos))
	}
	folder := ""
	if len(pos) == 1 {
		folder = pos[0]
	}
	if o.shared && o.target != "" {
		return fmt.Errorf("pack: --bff %q: the shared dependencies have no BFF", o.target)
	}
	path, _, err := m.packFrontend(folder, o)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	fmt.Fprintln(m.Stdout, path)
	return nil
}

// packOptions are what pack and publish ask of the archive.
type packOptions struct {
	root, out, label, target, config string
	shared                           bool // the shared dependencies, not a frontend
}

func (o *packOptions) flags(fset *flag.FlagSet) {
	fset.StringVar(&o.root, "root", ".", "project folder, holding node_modules/")
	fset.StringVar(&o.label, "label", "", "the version's label, such as a semver (default: the first 12 hex digits of the content digest)")
	fset.StringVar(&o.target, "bff", "", `the release's BFF target: "local" for a BFF linked into the shell, a versioned URL, or a Lambda version or alias ARN (default: the frontend's bff: in the config, else local)`)
	fset.StringVar(&o.config, "config", "", "the config whose entry for the frontend gives the release its BFF target and settings (default: collage.yaml in --root, when there is one)")
}

// fromConfig is the BFF target and settings the config gives the frontend
// called name, when it declares it; target is o.target when set.
func (o *packOptions) fromConfig(absRoot, name string) (target string, settings bff.Settings, err error) {
	path := o.config
	if path == "" {
		path = filepath.Join(absRoot, "collage.yaml")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return cmp.Or(o.target, "local"), nil, nil
		}
	}
	cfg, err := yaml.Load(path)
	if err != nil {
		return "", nil, err
	}
	f, ok := cfg.Frontends[name]
	if !ok {
		return cmp.Or(o.target, "local"), nil, nil
	}
	return cmp.Or(o.target, f.BFF), bff.Settings(f.Settings), nil
}

// packFrontend builds the frontend in folder and writes the archive of its
// release to o.out, or NAME-LABEL.tar.gz when o.out is empty. It returns
// the archive's path and the frontend's name. With o.shared it packs the
// shared dependencies alone instead, as the release build.SharedName, and
// folder is not read.
func (m *Main) packFrontend(folder string, o packOptions) (path, name string, err error) {
	start := time.Now()
	absRoot, err := filepath.Abs(o.root)
	if err != nil {
		return "", "", err
	}
	name, parent := build.SharedName, ""
	if !o.shared {
		dir, err := filepath.Abs(folder)
		if err != nil {
			return "", "", err
		}
		parent, err = filepath.Rel(absRoot, filepath.Dir(dir))
		if err != nil || parent == ".." || strings.HasPrefix(parent, "../") {
			return "", "", fmt.Errorf("%s is not inside the project folder %s (--root)", folder, o.root)
		}
		name = filepath.Base(dir)
		if err := build.CheckName(name); err != nil {
			return "", "", fmt.Errorf("%s: %w", folder, err)
		}
	}
	d := registry.Descriptor{Frontend: name, Label: o.label}
	if !o.shared {
		if d.BFF, d.Settings, err = o.fromConfig(absRoot, name); err != nil {
			return "", "", err
		}
	}
	if o.label != "" && !build.ValidVersion(o.label) {
		return "", "", fmt.Errorf("--label %q: use letters, digits, dots, dashes and underscores, at most 64", o.label)
	}

	tmp, err := os.MkdirTemp("", "collage-pack-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	// No compressed copies: the archive carries only what the manifest
	// names and its integrity verifies.
	res := build.Build(build.Options{Root: absRoot, Frontends: parent, Only: name, Out: filepath.Join(tmp, "dist"),
		Minify: true, NoCompress: true}, esbuild.Bundler{})
	if len(res.Errors) > 0 {
		printErrors(m.Stderr, res.Errors)
		fmt.Fprintf(m.Stderr, "pack failed with %d error(s)\n", len(res.Errors))
		return "", "", errReported
	}
	man := res.Manifests[name] // nil for a frontend without a client bundle
	files := os.DirFS(tmp)
	if man != nil {
		files = os.DirFS(filepath.Join(tmp, "dist", "assets", name, man.Version))
	}
	label := o.label
	if label == "" {
		if label, err = digestLabel(d, man, files); err != nil {
			return "", "", err
		}
	}
	path = o.out
	if path == "" {
		path = name + "-" + label + ".tar.gz"
	}
	if err := writeArchive(path, d, man, files); err != nil {
		return "", "", err
	}
	fmt.Fprintf(m.Stderr, "packed %s in %s\n", name, time.Since(start).Round(time.Millisecond))
	return path, name, nil
}

// digestLabel is the label the registry gives a release published without
// one: the first 12 hex digits of its content digest.
func digestLabel(d registry.Descriptor, man *build.Manifest, files fs.FS) (string, error) {
	r := &registry.Release{Frontend: d.Frontend, BFF: d.BFF, Settings: d.Settings, Manifest: man}
	if man != nil {
		r.Blobs = map[string]string{}
		for name := range man.Files {
			data, err := fs.ReadFile(files, name)
			if err != nil {
				return "", err
			}
			sum := sha256.Sum256(data)
			r.Blobs[name] = hex.EncodeToString(sum[:])
		}
	}
	digest, err := registry.DigestOf(r)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(digest, "sha256:")[:12], nil
}

// parseAnywhere parses fset's flags wherever they stand among args, and
// returns the positional arguments in order: `collage pack frontends/cart
// --label v2` and `collage pack --label v2 frontends/cart` are the same.
func parseAnywhere(fset *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			return nil, err
		}
		if fset.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fset.Arg(0))
		args = fset.Args()[1:]
	}
}

// writeArchive writes the archive to a temporary file beside path, reads
// it back as the registry will, and renames it into place: a pack never
// leaves a half archive, nor one the registry refuses.
func writeArchive(path string, d registry.Descriptor, man *build.Manifest, files fs.FS) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if err := registry.WriteArchive(f, d, man, files); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	_, _, err = registry.ReadArchive(f, registry.ArchiveLimits{})
	f.Close()
	if err != nil {
		return fmt.Errorf("the registry would refuse the archive: %w", err)
	}
	return os.Rename(f.Name(), path)
}
