package shell

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/compose"
	"github.com/collage-dev/collage/shell/layout"
	"github.com/collage-dev/collage/shell/registry"
	"github.com/collage-dev/collage/shell/runtime"
)

// The asset URL layout, which the head writes and the Handler serves:
// /assets/NAME/VERSION/FILE, and the client runtime under _collage.
const (
	assetsPrefix  = "/assets/"
	runtimeFolder = "_collage/"
)

// RuntimePath is where the client runtime is served.
var RuntimePath = assetsPrefix + runtimeFolder + runtime.File

// DevClientPath is where a shell in dev (Options.Dev) serves the dev
// client.
var DevClientPath = assetsPrefix + runtimeFolder + runtime.DevFile

// parseAssetsURL checks Options.AssetsURL and returns the prefix the head
// writes asset URLs under, ending in "/", and its origin for the CSP:
// "/assets/" and "" for the default, the shell's own origin.
func parseAssetsURL(raw string) (base, origin string, err error) {
	if raw == "" {
		return assetsPrefix, "", nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("assets URL %q: %w", raw, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", "", fmt.Errorf("assets URL %q: want an absolute http:// or https:// URL", raw)
	case u.Host == "" || u.Opaque != "":
		return "", "", fmt.Errorf("assets URL %q: has no host", raw)
	case u.User != nil:
		return "", "", fmt.Errorf("assets URL %q: must not carry a user or password", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return "", "", fmt.Errorf("assets URL %q: must not have a query", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", "", fmt.Errorf("assets URL %q: must not have a fragment", raw)
	}
	origin = strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
	return origin + strings.TrimSuffix(u.EscapedPath(), "/") + "/", origin, nil
}

// headCache is a page's head for one registry snapshot: of its active
// versions, and of each mix of canaries asked for.
type headCache struct {
	snap     *registry.Snapshot
	head     compose.Head
	variants sync.Map // of canaries: string → compose.Head
}

const noncePlaceholder = "\x00nonce\x00"

// headFor returns p's head for versions of snap, its asset URLs under
// base, building it once per snapshot and mix of canaries.
func (p *Page) headFor(snap *registry.Snapshot, versions map[string]string, base string) compose.Head {
	c := p.head.Load()
	if c == nil || c.snap != snap {
		c = &headCache{snap: snap, head: compose.NewHead(renderHead(p.Layout.Slots, snap, snap.Versions, base, p.dev), noncePlaceholder)}
		p.head.Store(c)
	}
	if len(snap.Canaries) == 0 && len(snap.Previews) == 0 {
		return c.head // every page has the active versions
	}
	// The frontends of the page in a canary or a preview, with their
	// versions.
	var variant strings.Builder
	for _, s := range p.Layout.Slots {
		if v := versions[s.Frontend]; v != snap.Versions[s.Frontend] {
			variant.WriteString(s.Frontend + "=" + v + "&")
		}
	}
	if variant.Len() == 0 {
		return c.head
	}
	if h, ok := c.variants.Load(variant.String()); ok {
		return h.(compose.Head)
	}
	h := compose.NewHead(renderHead(p.Layout.Slots, snap, versions, base, p.dev), noncePlaceholder)
	c.variants.Store(variant.String(), h)
	return h
}

// assetURL is the URL of a file of a manifest's version under base.
func assetURL(base string, m *build.Manifest, file string) string {
	return base + m.Name + "/" + m.Version + "/" + file
}

// importMap is the JSON of <script type="importmap">.
type importMap struct {
	Imports   map[string]string `json:"imports"`
	Integrity map[string]string `json:"integrity,omitempty"`
}

// renderHead writes the tags that let the browser mount the frontends of
// slots: the versions the page is rendered with, the import map,
// modulepreload and stylesheet links, and the runtime, all with integrity,
// under base. The client runtime pins each frontend's /bff calls to its
// version (/bff/NAME@LABEL). Assets on another origin than
// "/assets/" are fetched in CORS mode without credentials (crossorigin):
// a stylesheet fetched otherwise is opaque, and fails its integrity check.
// With dev, the dev client follows the runtime, on every page.
func renderHead(slots []*layout.Slot, snap *registry.Snapshot, versions map[string]string, base string, dev bool) string {
	var used []*build.Manifest
	seen := map[string]bool{}
	for _, s := range slots {
		m := snap.Frontends[s.Frontend]
		if v := versions[s.Frontend]; v != snap.Versions[s.Frontend] {
			if r := snap.Release(s.Frontend, v); r != nil {
				m = r.Manifest
			}
		}
		if m != nil && !seen[m.Name] {
			seen[m.Name] = true
			used = append(used, m)
		}
	}
	if len(used) == 0 {
		// Nothing to mount: no runtime, no import map.
		if dev {
			return devScript(base, "")
		}
		return ""
	}
	sort.Slice(used, func(i, j int) bool { return used[i].Name < used[j].Name })

	cors := ""
	if base != assetsPrefix {
		cors = " crossorigin"
	}
	im := importMap{Imports: map[string]string{}, Integrity: map[string]string{}}
	addJS := func(m *build.Manifest) {
		for file, f := range m.Files {
			if strings.HasSuffix(file, ".js") {
				im.Integrity[assetURL(base, m, file)] = f.Integrity
			}
		}
	}
	var b strings.Builder
	link := func(rel string, m *build.Manifest, file string) {
		fmt.Fprintf(&b, `<link rel="%s" href="%s" integrity="%s"%s>`+"\n", rel,
			html.EscapeString(assetURL(base, m, file)), m.Files[file].Integrity, cors)
	}
	sharedUsed := map[string]bool{}
	for _, m := range used {
		im.Imports["@collage/"+m.Name] = assetURL(base, m, m.Entry)
		addJS(m)
		for _, spec := range m.Shared {
			sharedUsed[spec] = true
		}
	}
	if snap.Shared != nil {
		for spec, file := range snap.Shared.Imports {
			im.Imports[spec] = assetURL(base, snap.Shared, file)
		}
		addJS(snap.Shared)
	}
	pins := url.Values{}
	for _, m := range used {
		if label := versions[m.Name]; label != "" {
			pins.Set(m.Name, label)
		}
	}
	if len(pins) > 0 {
		fmt.Fprintf(&b, `<meta name="collage-versions" content="%s">`+"\n", html.EscapeString(pins.Encode()))
	}
	mapJSON, _ := json.Marshal(im)
	fmt.Fprintf(&b, `<script type="importmap" nonce="%s">%s</script>`+"\n", noncePlaceholder, mapJSON)
	if snap.Shared != nil {
		specs := make([]string, 0, len(sharedUsed))
		for spec := range sharedUsed {
			specs = append(specs, spec)
		}
		sort.Strings(specs)
		for _, spec := range specs {
			if file, ok := snap.Shared.Imports[spec]; ok {
				link("modulepreload", snap.Shared, file)
			}
		}
		if len(specs) > 0 {
			for _, file := range snap.Shared.Preload {
				link("modulepreload", snap.Shared, file)
			}
		}
	}
	for _, m := range used {
		link("modulepreload", m, m.Entry)
		for _, file := range m.Preload {
			link("modulepreload", m, file)
		}
	}
	for _, m := range used {
		for _, file := range m.CSS {
			link("stylesheet", m, file)
		}
	}
	fmt.Fprintf(&b, `<script type="module" src="%s" integrity="%s"%s nonce="%s"></script>`+"\n",
		html.EscapeString(base+runtimeFolder+runtime.File), runtime.Integrity, cors, noncePlaceholder)
	if dev {
		b.WriteString(devScript(base, cors))
	}
	return b.String()
}

// devScript is the tag of the dev client, under base.
func devScript(base, cors string) string {
	return fmt.Sprintf(`<script type="module" src="%s" integrity="%s"%s nonce="%s"></script>`+"\n",
		html.EscapeString(base+runtimeFolder+runtime.DevFile), runtime.DevIntegrity, cors, noncePlaceholder)
}
