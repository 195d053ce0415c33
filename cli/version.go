package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version prints what this binary is: collage's module version (or the
// commit it was built from, in a checkout), and the Go that built it.
func (m *Main) version() error {
	v, commit, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	line := "collage " + v
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		line += " (commit " + commit
		if dirty {
			line += ", with uncommitted changes"
		}
		line += ")"
	}
	fmt.Fprintf(m.Stdout, "%s, %s %s/%s\n", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
