package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// version is a release as the API shows it.
type version struct {
	Frontend    string    `json:"frontend"`
	Label       string    `json:"label"`
	Digest      string    `json:"digest"`
	BFF         string    `json:"bff"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	Active      bool      `json:"active"`
	// Canary is the share of users it is served to in a canary; 0 when
	// it is in none.
	Canary int   `json:"canary,omitempty"`
	Yanked bool  `json:"yanked"`
	Files  int   `json:"files"` // of its bundle
	Bytes  int64 `json:"bytes"` // of its bundle's files
}

func versionOf(r *registry.Release, f *registry.FrontendState) version {
	v := version{Frontend: r.Frontend, Label: r.Label, Digest: r.Digest, BFF: r.BFF, PublishedAt: r.PublishedAt,
		PublishedBy: r.PublishedBy, Active: r.Label == f.Active, Yanked: r.Yanked}
	if c := f.Canary; c != nil && c.Label == r.Label {
		v.Canary = c.Percent
	}
	if r.Manifest != nil {
		v.Files = len(r.Manifest.Files)
		for _, f := range r.Manifest.Files {
			v.Bytes += f.Size
		}
	}
	return v
}

// list returns c.name's state and releases; none for a frontend never
// published.
func (a *API) list(ctx context.Context, name string) (*registry.FrontendState, []*registry.Release, error) {
	f, rs, err := a.o.Store.List(ctx, name)
	if code(err) == bff.CodeNotFound {
		return &registry.FrontendState{Name: name, Versions: []string{}}, nil, nil
	}
	return f, rs, err
}

// upload answers POST /frontends/NAME/versions: the archive of one
// release, published, and promoted with ?promote=1.
func (a *API) upload(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	promote := false
	if v := c.q.Get("promote"); v != "" {
		var err error
		if promote, err = strconv.ParseBool(v); err != nil {
			return badRequest("promote", "promote=%s: use promote=1 or leave it out", v)
		}
	}
	expect := c.q.Get("expect")
	if expect != "" && !promote {
		return badRequest("expect", "expect=%s goes with promote=1: it is the version you believe active", expect)
	}
	if err := c.may(registry.CanPublish); err != nil {
		return err
	}
	if promote {
		if err := c.may(registry.CanPromote); err != nil {
			return err
		}
	}
	rel, files, err := a.readArchive(c)
	if err != nil {
		return err
	}
	if rel.Frontend != c.name {
		return badRequest("", "the archive is a release of %s, uploaded to %s", rel.Frontend, c.name)
	}
	if rel.Frontend != build.SharedName && rel.Manifest != nil {
		if err := registry.CheckShared(a.o.Current().Shared, rel.Manifest); err != nil {
			return err
		}
	}
	if err := a.refuseTaken(c.ctx, rel, files); err != nil {
		return err
	}
	rel.PublishedBy = c.by
	stored, created, err := registry.Publish(c.ctx, a.o.Store, a.o.Blobs, rel, files)
	if err != nil {
		return err
	}
	f, _, err := a.list(c.ctx, c.name)
	if err != nil {
		return err
	}
	if created {
		a.logChange(published(f, stored))
	}
	out := struct {
		Created bool             `json:"created"`
		Version version          `json:"version"`
		Change  *registry.Change `json:"change,omitempty"`
	}{Created: created}
	after := *f
	if promote {
		ch, err := a.activate(c, registry.KindPromote, registry.Move{Frontend: c.name, Label: stored.Label, Expect: expect, By: c.by})
		if err != nil {
			if created {
				a.changed(c.ctx)
			}
			return notPromoted(stored, created, err)
		}
		out.Change = &ch
		after.Active, after.Canary = ch.Label, nil
	} else if created {
		a.changed(c.ctx)
	}
	out.Version = versionOf(stored, &after)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return reply(c, status, out)
}

// published is the change that published r, from f's history.
func published(f *registry.FrontendState, r *registry.Release) registry.Change {
	for _, ch := range slices.Backward(f.History) {
		if ch.Kind == registry.KindPublish && ch.Label == r.Label {
			return ch
		}
	}
	return registry.Change{At: r.PublishedAt, By: r.PublishedBy, Kind: registry.KindPublish, Frontend: r.Frontend, Label: r.Label}
}

// readArchive reads the body of c as the archive of a release, bounded by
// Options.Limits and BodyTimeout.
func (a *API) readArchive(c *call) (*registry.Release, fs.FS, error) {
	if enc := c.req.Header("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, nil, &bff.Error{Code: bff.CodeUnsupportedMediaType,
			Message: fmt.Sprintf("Content-Encoding %q: send the archive as it is, it is gzip already", enc)}
	}
	body, n := c.req.Body()
	if body == nil || n == 0 {
		return nil, nil, badRequest("", "no body: send the archive that collage pack writes")
	}
	if n > a.o.Limits.MaxCompressed {
		c.resp.CloseConnection()
		return nil, nil, &bff.Error{Code: bff.CodePayloadTooLarge,
			Message: fmt.Sprintf("archive: %d bytes, over the limit of %d compressed bytes", n, a.o.Limits.MaxCompressed)}
	}
	c.req.SetBodyDeadline(a.o.Now().Add(a.o.BodyTimeout))
	br := &bodyReader{r: body}
	rel, files, err := registry.ReadArchive(br, a.o.Limits)
	if err != nil {
		// The rest of a refused body may still be on its way.
		c.resp.CloseConnection()
		if br.err != nil && code(err) != bff.CodePayloadTooLarge {
			return nil, nil, bodyError(br.err)
		}
		return nil, nil, err
	}
	return rel, files, nil
}

// bodyReader remembers the first failure of a body's reads, which a
// reader above may report as a malformed archive.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// refuseTaken is the conflict of a label published already with other
// content, found before any blob is written: the store refuses it too,
// but after the blobs of the other content are stored.
func (a *API) refuseTaken(ctx context.Context, rel *registry.Release, files fs.FS) error {
	if rel.Label == "" {
		return nil
	}
	_, rs, err := a.list(ctx, rel.Frontend)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(rs, func(r *registry.Release) bool { return r.Label == rel.Label })
	if i < 0 {
		return nil
	}
	r := *rel
	if r.Manifest != nil {
		r.Blobs = make(map[string]string, len(r.Manifest.Files))
		for name := range r.Manifest.Files {
			data, err := fs.ReadFile(files, name)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			r.Blobs[name] = hex.EncodeToString(sum[:])
		}
	}
	digest, err := registry.DigestOf(&r)
	if err != nil {
		return err
	}
	if old := rs[i]; old.Digest != digest {
		return conflict("%s %s is published already with other content (%s); versions are immutable: publish under another label",
			rel.Frontend, rel.Label, old.Digest)
	}
	return nil
}

// notPromoted is the error of an upload published but not promoted.
func notPromoted(r *registry.Release, created bool, err error) error {
	var e *bff.Error
	if !errors.As(err, &e) {
		return err
	}
	what := "was published already"
	if created {
		what = "is published"
	}
	c := *e
	c.Message = fmt.Sprintf("%s %s %s but not promoted: %s", r.Frontend, r.Label, what, e.Message)
	return &c
}

// listFrontends answers GET /frontends.
func (a *API) listFrontends(c *call) error {
	st, err := a.o.Store.Load(c.ctx)
	if err != nil {
		return err
	}
	type summary struct {
		Name     string           `json:"name"`
		Active   string           `json:"active"`
		Canary   *registry.Canary `json:"canary,omitempty"`
		Versions int              `json:"versions"`
	}
	out := struct {
		Revision  uint64    `json:"revision"`
		Frontends []summary `json:"frontends"`
	}{Revision: st.Revision, Frontends: []summary{}}
	names := a.names
	if st.Frontends[build.SharedName] != nil {
		names = append([]string{build.SharedName}, names...)
	}
	for _, name := range names {
		s := summary{Name: name}
		if f := st.Frontends[name]; f != nil {
			s.Active, s.Canary, s.Versions = f.Active, f.Canary, len(f.Versions)
		}
		out.Frontends = append(out.Frontends, s)
	}
	return reply(c, http.StatusOK, out)
}

// listVersions answers GET /frontends/NAME/versions.
func (a *API) listVersions(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	if err := c.mayRead(); err != nil {
		return err
	}
	f, rs, err := a.list(c.ctx, c.name)
	if err != nil {
		return err
	}
	out := struct {
		Frontend string           `json:"frontend"`
		Active   string           `json:"active"`
		Canary   *registry.Canary `json:"canary,omitempty"`
		Versions []version        `json:"versions"`
	}{Frontend: c.name, Active: f.Active, Canary: f.Canary, Versions: make([]version, 0, len(rs))}
	for _, r := range rs {
		out.Versions = append(out.Versions, versionOf(r, f))
	}
	return reply(c, http.StatusOK, out)
}

// showVersion answers GET /frontends/NAME/versions/LABEL.
func (a *API) showVersion(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	if err := c.mayRead(); err != nil {
		return err
	}
	f, rs, err := a.list(c.ctx, c.name)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(rs, func(r *registry.Release) bool { return r.Label == c.label })
	if i < 0 {
		return &bff.Error{Code: bff.CodeNotFound, Message: fmt.Sprintf("%s has no version %s", c.name, c.label)}
	}
	r := rs[i]
	out := struct {
		version
		Manifest *build.Manifest `json:"manifest"`
		Settings bff.Settings    `json:"settings"`
	}{versionOf(r, f), r.Manifest, r.Settings}
	if out.Settings == nil {
		out.Settings = bff.Settings{}
	}
	return reply(c, http.StatusOK, out)
}
