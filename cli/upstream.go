package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/invoke"
	"github.com/collage-dev/collage/shell/registry"
)

// upstream is collage dev --upstream URL --only NAME,…: the frontends not
// named run as the shell at URL serves them. Their versions, read from its
// pages, are published into the local registry with their files, fetched
// from it and checked against its integrity, so that the local server
// serves them with its own nonce and integrity; their fragments are cut
// from its page of the same path, and their /bff calls go to its /bff/.
// Nothing local ever runs there.
type upstream struct {
	base    *url.URL
	only    map[string]bool
	cookie  string       // sent to it, besides the frontends' own cookies
	token   string       // sent as a bearer token
	client  *http.Client // for pages and files, bounded in time
	proxy   http.RoundTripper
	log     *slog.Logger
	flights singleflight.Group
}

// upstreamPageMax bounds the bytes of a page or a file read from upstream.
const upstreamPageMax = 16 << 20

func newUpstream(raw, only, cookie, token string, known map[string]bool) (*upstream, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--upstream %q: want the http(s):// URL of a collage shell", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	if only == "" {
		return nil, errors.New("--upstream needs --only NAME[,NAME]: the frontends to run from this project")
	}
	up := &upstream{base: u, only: map[string]bool{}, cookie: cookie, token: token,
		client: &http.Client{Timeout: 30 * time.Second}, proxy: http.DefaultTransport, log: slog.Default()}
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if !known[name] {
			return nil, fmt.Errorf("--only %s: collage.yaml names no frontend %q", only, name)
		}
		up.only[name] = true
	}
	return up, nil
}

// remote reports whether frontend name runs upstream.
func (u *upstream) remote(name string) bool { return !u.only[name] && name != build.SharedName }

// get fetches the upstream URL ref (relative to its base) with the
// cookies given and the configured credentials.
func (u *upstream) get(ctx context.Context, ref, cookie string) ([]byte, error) {
	target, err := u.base.Parse(ref)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(ref, "/") {
		target.Path = u.base.Path + target.Path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, err
	}
	if c := joinCookies(cookie, u.cookie); c != "" {
		req.Header.Set("Cookie", c)
	}
	if u.token != "" {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, upstreamPageMax+1))
	if err != nil {
		return nil, err
	}
	if len(body) > upstreamPageMax {
		return nil, fmt.Errorf("GET %s: more than %d bytes", target, upstreamPageMax)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return body, nil
}

func joinCookies(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// What a collage page says of its versions and assets.
var (
	upVersionsRE  = regexp.MustCompile(`<meta name="collage-versions" content="([^"]*)">`)
	upImportMapRE = regexp.MustCompile(`(?s)<script type="importmap"[^>]*>(.*?)</script>`)
	upLinkRE      = regexp.MustCompile(`<link rel="(stylesheet|modulepreload)" href="([^"]+)"(?: integrity="([^"]+)")?`)
	upSlotRE      = regexp.MustCompile(`(?s)<collage-slot\b([^>]*)>(.*?)</collage-slot>`)
	upFillRE      = regexp.MustCompile(`(?s)<template data-collage-fill="(\d+)"([^>]*)>(.*?)</template>`)
	upAttrRE      = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
)

// remoteRelease is a version of a frontend as an upstream page shows it.
type remoteRelease struct {
	label    string
	manifest *build.Manifest // nil for a server fragment alone
	urls     map[string]string
}

// releases reads the versions of the remote frontends from page.
func (u *upstream) releases(page []byte) (map[string]*remoteRelease, error) {
	m := upVersionsRE.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("%s does not look like a collage page: it has no collage-versions", u.base)
	}
	labels, err := url.ParseQuery(html.UnescapeString(string(m[1])))
	if err != nil {
		return nil, fmt.Errorf("%s: collage-versions: %w", u.base, err)
	}
	var imap struct {
		Imports   map[string]string `json:"imports"`
		Integrity map[string]string `json:"integrity"`
	}
	if im := upImportMapRE.FindSubmatch(page); im != nil {
		if err := json.Unmarshal(im[1], &imap); err != nil {
			return nil, fmt.Errorf("%s: import map: %w", u.base, err)
		}
	}
	links := upLinkRE.FindAllSubmatch(page, -1)
	out := map[string]*remoteRelease{}
	for name := range labels {
		if !u.remote(name) {
			continue
		}
		r := &remoteRelease{label: labels.Get(name)}
		out[name] = r
		entry, ok := imap.Imports["@collage/"+name]
		if !ok {
			continue // a server fragment alone
		}
		dir := entry[:strings.LastIndex(entry, "/")+1]
		mf := &build.Manifest{Name: name, Version: path.Base(strings.TrimSuffix(dir, "/")), Entry: entry[len(dir):],
			Files: map[string]build.File{}}
		r.urls = map[string]string{}
		add := func(ref, integrity string) string {
			file, ok := strings.CutPrefix(ref, dir)
			if !ok || file == "" || strings.Contains(file, "/") {
				return ""
			}
			r.urls[file] = ref
			mf.Files[file] = build.File{Integrity: integrity}
			return file
		}
		for ref, integrity := range imap.Integrity {
			add(ref, integrity)
		}
		for _, l := range links {
			file := add(string(l[2]), string(l[3]))
			switch {
			case file == "":
			case string(l[1]) == "stylesheet":
				mf.CSS = append(mf.CSS, file)
			case file != mf.Entry:
				mf.Preload = append(mf.Preload, file)
			}
		}
		if mf.Files[mf.Entry].Integrity == "" {
			return nil, fmt.Errorf("%s: the import map gives no integrity for %s's entry %s", u.base, name, entry)
		}
		r.manifest = mf
	}
	return out, nil
}

// sync publishes the versions the upstream page at / serves of the remote
// frontends into st and blobs, and makes them active there. It reports
// whether anything changed.
func (u *upstream) sync(ctx context.Context, st registry.Store, blobs registry.Blobs) (bool, error) {
	page, err := u.get(ctx, "/", "")
	if err != nil {
		return false, fmt.Errorf("--upstream: %w", err)
	}
	rels, err := u.releases(page)
	if err != nil {
		return false, fmt.Errorf("--upstream: %w", err)
	}
	state, err := st.Load(ctx)
	if err != nil {
		return false, err
	}
	changed := false
	for _, name := range slices.Sorted(maps.Keys(rels)) {
		r := rels[name]
		f := state.Frontends[name]
		if f != nil && f.Active == r.label {
			continue
		}
		if _, ok := state.Releases[name][r.label]; !ok {
			files, err := u.fetch(ctx, r)
			if err != nil {
				return changed, fmt.Errorf("--upstream: %s %s: %w", name, r.label, err)
			}
			rel := &registry.Release{Frontend: name, Label: r.label, Manifest: r.manifest,
				BFF: u.base.String() + "/bff/" + name + "@" + r.label, PublishedBy: "collage dev --upstream"}
			if _, _, err := registry.Publish(ctx, st, blobs, rel, files); err != nil {
				return changed, fmt.Errorf("--upstream: %s %s: %w", name, r.label, err)
			}
		}
		if _, err := st.Promote(ctx, registry.Move{Frontend: name, Label: r.label, By: "collage dev --upstream"}); err != nil {
			return changed, fmt.Errorf("--upstream: %s %s: %w", name, r.label, err)
		}
		changed = true
	}
	return changed, nil
}

// cssURLRE is a url() of a stylesheet.
var cssURLRE = regexp.MustCompile(`url\(\s*['"]?([^'")]+?)['"]?\s*\)`)

// fetch reads the files of r from upstream, each checked against the
// integrity its page gave, and the files of the version folder its
// stylesheets name (pictures, fonts), which a page does not list.
func (u *upstream) fetch(ctx context.Context, r *remoteRelease) (fs.FS, error) {
	files := fstest.MapFS{}
	if r.manifest == nil {
		return files, nil
	}
	queue := slices.Sorted(maps.Keys(r.urls))
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		ref := r.urls[file]
		data, err := u.get(ctx, ref, "")
		if err != nil {
			return nil, err
		}
		f := r.manifest.Files[file]
		if got := build.Integrity(data); f.Integrity != "" && got != f.Integrity {
			return nil, fmt.Errorf("%s: integrity %s, but the page says %s", ref, got, f.Integrity)
		}
		f.Integrity, f.Size = build.Integrity(data), int64(len(data))
		r.manifest.Files[file] = f
		files[file] = &fstest.MapFile{Data: data, Mode: 0o644}
		if path.Ext(file) != ".css" {
			continue
		}
		dir := strings.TrimSuffix(ref, file)
		for _, m := range cssURLRE.FindAllSubmatch(data, -1) {
			name := string(m[1])
			if i := strings.IndexAny(name, "?#"); i >= 0 {
				name = name[:i]
			}
			name = path.Clean(name)
			if strings.Contains(name, ":") || !filepath.IsLocal(name) || strings.Contains(name, "/") {
				continue // data:, another origin, or outside the version folder
			}
			if _, seen := r.urls[name]; !seen {
				r.urls[name] = dir + name
				queue = append(queue, name)
			}
		}
	}
	return files, nil
}

// watch syncs every interval until ctx is done, calling changed after a
// sync that changed the registry.
func (u *upstream) watch(ctx context.Context, st registry.Store, blobs registry.Blobs, interval time.Duration, changed func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		did, err := u.sync(ctx, st, blobs)
		if err != nil && ctx.Err() == nil {
			u.log.Warn("following the upstream shell", "err", err)
		}
		if did {
			if err := changed(ctx); err != nil {
				u.log.Warn("serving the upstream's versions", "err", err)
			}
		}
	}
}

// invoker reaches frontend name's BFF upstream; label, when not "", pins
// its /bff calls to that version.
func (u *upstream) invoker(name, label string) invoke.Invoker {
	return &upstreamInvoker{u: u, name: name, label: label}
}

// labelOf is the label a remote release's BFF target pins.
func labelOf(target string) string {
	if i := strings.LastIndex(target, "@"); i >= 0 {
		return target[i+1:]
	}
	return ""
}

type upstreamInvoker struct {
	u           *upstream
	name, label string
}

// FetchFragment cuts the frontend's fragment from the upstream page of
// the same path: the slot of the same frontend and name, filled in place
// or, for an async slot, by its template. A slot that fell back there is
// an error here, so that the local page shows its own fallback.
func (i *upstreamInvoker) FetchFragment(ctx context.Context, call *bff.FragmentCall) (bff.FragmentAnswer, bool, error) {
	cookie := call.Header.Get("Cookie")
	v, err, _ := i.u.flights.Do(call.Path+"\x00"+cookie, func() (any, error) {
		return i.u.get(ctx, call.Path, cookie)
	})
	if err != nil {
		return bff.FragmentAnswer{}, false, fmt.Errorf("upstream page %s: %w", call.Path, err)
	}
	body, err := cutSlot(v.([]byte), i.name, call.Slot)
	if err != nil {
		return bff.FragmentAnswer{}, false, fmt.Errorf("upstream page %s: %w", call.Path, err)
	}
	h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	return bff.FragmentAnswer{Status: http.StatusOK, Header: h, Body: body}, true, nil
}

// cutSlot is the content of the slot of frontend (and slot name) in page.
func cutSlot(page []byte, frontend, slot string) ([]byte, error) {
	for _, m := range upSlotRE.FindAllSubmatch(page, -1) {
		attrs := map[string]string{}
		for _, a := range upAttrRE.FindAllSubmatch(m[1], -1) {
			attrs[string(a[1])] = string(a[2])
		}
		if attrs["frontend"] != frontend || attrs["name"] != slot {
			continue
		}
		if n, ok := attrs["data-collage-async"]; ok {
			for _, f := range upFillRE.FindAllSubmatch(page, -1) {
				if string(f[1]) != n {
					continue
				}
				if bytes.Contains(f[2], []byte("data-collage-fallback")) {
					return nil, fmt.Errorf("its %s slot fell back", frontend)
				}
				return f[3], nil
			}
			return nil, fmt.Errorf("its %s slot was never filled", frontend)
		}
		if _, failed := attrs["data-collage-fallback"]; failed {
			return nil, fmt.Errorf("its %s slot fell back", frontend)
		}
		return m[2], nil
	}
	return nil, fmt.Errorf("it has no slot of frontend %s named %q", frontend, slot)
}

// RoundTrip sends a /bff call to upstream's /bff/NAME[@LABEL]; a fragment
// request, which a shell does not let through from outside, is cut from
// the page.
func (i *upstreamInvoker) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == bff.FragmentPath {
		return nil, errors.New("upstream fragments are cut from its pages")
	}
	target := *i.u.base
	pin := i.name
	if i.label != "" {
		pin += "@" + i.label
	}
	target.Path = i.u.base.Path + "/bff/" + pin + r.URL.Path
	target.RawQuery = r.URL.RawQuery
	out := r.Clone(r.Context())
	out.URL, out.Host, out.RequestURI = &target, "", ""
	if i.u.cookie != "" {
		out.Header.Set("Cookie", joinCookies(r.Header.Get("Cookie"), i.u.cookie))
	}
	if i.u.token != "" && out.Header.Get("Authorization") == "" {
		out.Header.Set("Authorization", "Bearer "+i.u.token)
	}
	return i.u.proxy.RoundTrip(out)
}

var (
	_ invoke.Invoker         = (*upstreamInvoker)(nil)
	_ invoke.FragmentFetcher = (*upstreamInvoker)(nil)
)
