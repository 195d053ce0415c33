package dev

import (
	"maps"
	"slices"
	"strings"

	"github.com/collage-dev/collage/build"
)

// The events a page's stream carries, by name.
const (
	// EventUpdate is an Update: a frontend's new version, which the page
	// mounts again without a reload.
	EventUpdate = "update"
	// EventReload asks the page to reload: its layout, collage.yaml or the
	// shared dependencies changed, which a page cannot take in place.
	EventReload = "reload"
	// EventError is a Problem, for the overlay.
	EventError = "error"
	// EventClear is a Clear: problems that are over.
	EventClear = "clear"
)

// Where problems come from.
const (
	// SourceBuild is a frontend's build, or its frontend.json.
	SourceBuild = "build"
	// SourceConfig is collage.yaml or a layout.
	SourceConfig = "config"
	// SourceFragment is a fragment a page's slot asked for.
	SourceFragment = "fragment"
	// SourceGo is the project's Go code, which did not compile or whose
	// BFFs did not start: the BFFs that last did are served.
	SourceGo = "go"
	// SourceDrift is a frontend's Go template that differs from its
	// component (shell.ComponentOptions.Drift).
	SourceDrift = "drift"
)

// Update tells the pages of a frontend's new version.
type Update struct {
	Frontend string `json:"frontend"`
	// Label is the release's label: the page pins the frontend's /bff
	// calls to it (/bff/NAME@LABEL).
	Label string `json:"label"`
	// Version is the bundle's version, the folder of its files under
	// /assets/NAME/.
	Version string `json:"version"`
	// Entry is the URL of the entry module, which the page imports
	// directly: an import map cannot change once the page has read it.
	Entry string `json:"entry"`
	// CSS are the URLs of the stylesheets, in order.
	CSS []string `json:"css"`
	// Integrity is the subresource integrity of Entry and CSS, by URL.
	Integrity map[string]string `json:"integrity"`
	// CSSOnly says that the modules are those of the version before: the
	// page swaps the stylesheets and mounts nothing again.
	CSSOnly bool `json:"css_only,omitempty"`
	// Took is the milliseconds from the first change seen to the version
	// served. Optional.
	Took float64 `json:"took_ms,omitempty"`
	// At is when the version was served, in milliseconds since the Unix
	// epoch, for the page to tell how long the delivery took. Optional.
	At int64 `json:"at,omitempty"`
}

// assetsBase is where the shell serves the bundles: collage dev has no
// CDN in front of it.
const assetsBase = "/assets/"

// newUpdate is the update of frontend's version label, whose bundle is m.
func newUpdate(frontend, label string, m *build.Manifest) Update {
	dir := assetsBase + m.Name + "/" + m.Version + "/"
	u := Update{Frontend: frontend, Label: label, Version: m.Version, Entry: dir + m.Entry,
		CSS: []string{}, Integrity: map[string]string{dir + m.Entry: m.Files[m.Entry].Integrity}}
	for _, css := range m.CSS {
		u.CSS = append(u.CSS, dir+css)
		u.Integrity[dir+css] = m.Files[css].Integrity
	}
	return u
}

// sameModules reports whether the JavaScript files of a and b are the
// same, by name and content: a bundle whose stylesheets alone changed.
func sameModules(a, b *build.Manifest) bool {
	js := func(m *build.Manifest) map[string]string {
		out := map[string]string{}
		for name, f := range m.Files {
			if strings.HasSuffix(name, ".js") {
				out[name] = f.Integrity
			}
		}
		return out
	}
	return a != nil && b != nil && a.Entry == b.Entry && slices.Equal(a.Preload, b.Preload) && maps.Equal(js(a), js(b))
}

// Problem is an error the overlay shows, naming its frontend.
type Problem struct {
	// Source is SourceBuild, SourceConfig, SourceFragment or SourceGo.
	Source   string `json:"source"`
	Frontend string `json:"frontend,omitempty"`
	// File is relative to the project root; Line and Column are 1-based.
	// Each is optional.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Message says what is wrong, and Frame shows where: the lines of
	// source around it, or a stack.
	Message string `json:"message"`
	Frame   string `json:"frame,omitempty"`
	// Path is the page's path and query, for a fragment's problem: only
	// the pages of that path are told.
	Path string `json:"path,omitempty"`
}

// Clear tells the pages that the problems of a source and frontend are
// over.
type Clear struct {
	Source   string `json:"source"`
	Frontend string `json:"frontend,omitempty"`
	Path     string `json:"path,omitempty"`
}
