package cli

import (
	"flag"
	"path/filepath"
)

// projectFlags are --root and --config, which every command that reads a
// project takes alike: either names the project, the other follows.
type projectFlags struct{ root, config string }

func (p *projectFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.root, "root", "", "the project folder, holding collage.yaml, frontends/ and node_modules/ (default: the folder of --config, else .)")
	fs.StringVar(&p.config, "config", "", "the project's config file (default: collage.yaml in --root)")
}

// paths are the project's folder and config file.
func (p *projectFlags) paths() (root, config string) {
	switch {
	case p.root == "" && p.config == "":
		return ".", "collage.yaml"
	case p.root == "":
		return filepath.Dir(p.config), p.config
	case p.config == "":
		return p.root, filepath.Join(p.root, "collage.yaml")
	}
	return p.root, p.config
}
