package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// promote answers POST /frontends/NAME/promote.
func (a *API) promote(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	var in struct {
		Version string `json:"version"`
		Expect  string `json:"expect"`
		// Percent, from 1 to 99, starts a canary of Version, or changes
		// its share.
		Percent int `json:"percent"`
	}
	if err := a.decode(c, &in, false); err != nil {
		return err
	}
	if in.Version == "" {
		return badRequest("version", "promote %s: which version?", c.name)
	}
	if err := c.may(registry.CanPromote); err != nil {
		return err
	}
	ch, err := a.activate(c, registry.KindPromote, registry.Move{Frontend: c.name, Label: in.Version, Expect: in.Expect, Percent: in.Percent, By: c.by})
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, struct {
		Change registry.Change `json:"change"`
	}{ch})
}

// rollback answers POST /frontends/NAME/rollback.
func (a *API) rollback(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	var in struct {
		Version string `json:"version"`
		Expect  string `json:"expect"`
	}
	if err := a.decode(c, &in, true); err != nil {
		return err
	}
	if err := c.may(registry.CanPromote); err != nil {
		return err
	}
	ch, err := a.activate(c, registry.KindRollback, registry.Move{Frontend: c.name, Label: in.Version, Expect: in.Expect, By: c.by})
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, struct {
		Change registry.Change `json:"change"`
	}{ch})
}

// activate promotes or rolls back, as kind says, and tells the shell.
func (a *API) activate(c *call, kind string, m registry.Move) (registry.Change, error) {
	if err := a.checkMove(c.ctx, &m); err != nil {
		return registry.Change{}, err
	}
	var ch registry.Change
	var err error
	if kind == registry.KindPromote {
		ch, err = a.o.Store.Promote(c.ctx, m)
	} else {
		ch, err = a.o.Store.Rollback(c.ctx, m)
	}
	if err != nil {
		return registry.Change{}, err
	}
	if ch.From != ch.Label {
		a.logChange(ch)
		a.changed(c.ctx)
	}
	return ch, nil
}

// checkMove checks that the version m activates fits what the shell
// serves: a frontend's version was built against the shared dependencies
// served, and a version of the shared dependencies provides what every
// frontend served needs. A rollback to the previous version becomes one
// to the version found, expected to move from the version active now, so
// that the version checked is the version activated.
func (a *API) checkMove(ctx context.Context, m *registry.Move) error {
	f, rs, err := a.list(ctx, m.Frontend)
	if err != nil {
		return err
	}
	if m.Expect != "" && m.Expect != f.Active {
		return nil // the store refuses it as precondition_failed
	}
	if m.Label == "" && f.Canary != nil {
		return nil // the rollback ends the canary
	}
	if m.Label == "" {
		if m.Label = previous(f, rs); m.Label == "" {
			return nil // the store says there is nothing to roll back to
		}
		if m.Expect == "" {
			m.Expect = f.Active
		}
	}
	i := slices.IndexFunc(rs, func(r *registry.Release) bool { return r.Label == m.Label })
	if i < 0 || rs[i].Manifest == nil {
		return nil // the store refuses a version it does not hold
	}
	cur := a.o.Current()
	if m.Frontend != build.SharedName {
		return registry.CheckShared(cur.Shared, rs[i].Manifest)
	}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(cur.Frontends)) {
		if err := registry.CheckShared(rs[i].Manifest, cur.Frontends[name]); err != nil {
			var e *bff.Error
			if !errors.As(err, &e) {
				return err
			}
			missing = append(missing, e.Message)
		}
	}
	if len(missing) > 0 {
		return conflict("%s %s does not provide what the frontends served need: %s", m.Frontend, m.Label, strings.Join(missing, ". "))
	}
	return nil
}

// previous is the version a rollback without one activates: the last
// version active before the current one that is not yanked.
func previous(f *registry.FrontendState, rs []*registry.Release) string {
	for _, ch := range slices.Backward(f.History) {
		switch ch.Kind {
		case registry.KindPromote, registry.KindRollback, registry.KindRollbackAll:
		default:
			continue
		}
		if ch.Label == f.Active {
			continue
		}
		if i := slices.IndexFunc(rs, func(r *registry.Release) bool { return r.Label == ch.Label }); i >= 0 && !rs[i].Yanked {
			return ch.Label
		}
	}
	return ""
}

// rollbackAll answers POST /rollback: every frontend back to what was
// active at a time.
func (a *API) rollbackAll(c *call) error {
	var in struct {
		To string `json:"to"`
	}
	if err := a.decode(c, &in, false); err != nil {
		return err
	}
	if !isAdmin(c.tok) && !(slices.Contains(c.tok.Can, registry.CanPromote) && slices.Contains(c.tok.Frontends, registry.AllFrontends)) {
		return c.forbidden("roll back every frontend: that takes an admin token, or one that may promote \"*\"")
	}
	to, err := time.Parse(time.RFC3339, in.To)
	if err != nil {
		return badRequest("to", "%q is not a time: use RFC 3339, such as 2026-11-30T10:00:00Z", in.To)
	}
	changes, err := a.o.Store.RollbackAll(c.ctx, to, c.by)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		a.logChange(ch)
	}
	if len(changes) > 0 {
		a.changed(c.ctx)
	}
	return reply(c, http.StatusOK, struct {
		Changes []registry.Change `json:"changes"`
	}{append([]registry.Change{}, changes...)})
}

// yank answers POST /frontends/NAME/versions/LABEL/yank.
func (a *API) yank(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	if err := a.decode(c, &struct{}{}, true); err != nil {
		return err
	}
	if err := c.may(registry.CanPromote); err != nil {
		return err
	}
	ch, err := a.o.Store.Yank(c.ctx, c.name, c.label, c.by)
	if err != nil {
		return err
	}
	a.logChange(ch)
	a.changed(c.ctx)
	return reply(c, http.StatusOK, struct {
		Change registry.Change `json:"change"`
	}{ch})
}

// history answers GET /history[?since=REV][&frontend=NAME].
func (a *API) history(c *call) error {
	var since uint64
	if v := c.q.Get("since"); v != "" {
		var err error
		if since, err = strconv.ParseUint(v, 10, 64); err != nil {
			return badRequest("since", "since=%s: want a revision, a whole number", v)
		}
	}
	c.name = c.q.Get("frontend")
	if c.q.Has("frontend") {
		if err := a.frontend(c); err != nil {
			return err
		}
		if err := c.mayRead(); err != nil {
			return err
		}
	}
	// The revision is read first, and the history after it: a change
	// between the two is listed, and none is missed by a caller that asks
	// again since the revision answered.
	st, err := a.o.Store.Load(c.ctx)
	if err != nil {
		return err
	}
	all, err := a.o.Store.History(c.ctx, since)
	if err != nil {
		return err
	}
	out := struct {
		Revision uint64            `json:"revision"`
		Changes  []registry.Change `json:"changes"`
	}{Revision: st.Revision, Changes: []registry.Change{}}
	for _, ch := range all {
		out.Revision = max(out.Revision, ch.Revision)
		if !c.q.Has("frontend") || ch.Frontend == c.name {
			out.Changes = append(out.Changes, ch)
		}
	}
	return reply(c, http.StatusOK, out)
}

// MaxPreview is the longest a preview link lasts.
const MaxPreview = 7 * 24 * time.Hour

// preview answers POST /frontends/NAME/versions/LABEL/preview: a link that
// shows the version to whoever holds it, on this shell, for "for" (a Go
// duration; default 1h, at most MaxPreview).
func (a *API) preview(c *call) error {
	if err := a.frontend(c); err != nil {
		return err
	}
	var in struct {
		For string `json:"for"`
	}
	if err := a.decode(c, &in, true); err != nil {
		return err
	}
	d := time.Hour
	if in.For != "" {
		var err error
		if d, err = time.ParseDuration(in.For); err != nil || d <= 0 || d > MaxPreview {
			return badRequest("for", "for %q: give a duration such as 30m or 24h, at most %s", in.For, MaxPreview)
		}
	}
	if err := c.may(registry.CanPromote); err != nil {
		return err
	}
	var b [16]byte
	rand.Read(b[:]) // never fails
	nonce := hex.EncodeToString(b[:])
	until := a.o.Now().Add(d)
	ch, err := a.o.Store.Promote(c.ctx, registry.Move{Frontend: c.name, Label: c.label, Until: until, Nonce: nonce, By: c.by})
	if err != nil {
		return err
	}
	a.logChange(ch)
	a.changed(c.ctx)
	return reply(c, http.StatusOK, struct {
		Change registry.Change `json:"change"`
		// Path is the link, on the shell's origin.
		Path  string    `json:"path"`
		Until time.Time `json:"until"`
	}{ch, "/?" + url.Values{shell.PreviewParam: {shell.PreviewToken(c.name, c.label, nonce)}}.Encode(), ch.Until})
}
