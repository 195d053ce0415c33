package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
)

// A Release is one immutable version of a frontend: its bundle, the BFF
// target that answers for it, and its settings.
type Release struct {
	Frontend string `json:"frontend"`
	// Label names the version: the first 12 hex digits of Digest unless
	// the team chose its own (a semver, a build number).
	Label string `json:"label"`
	// Digest is "sha256:" and the hex SHA-256 of the release's content
	// (manifest, blobs, BFF target, settings); Publish computes it.
	Digest string `json:"digest"`
	// Manifest is the bundle's manifest; nil for a frontend with no client
	// bundle (a server fragment only).
	Manifest *build.Manifest `json:"manifest,omitempty"`
	// Blobs maps every file of Manifest to the hex SHA-256 under which the
	// blob store keeps it.
	Blobs map[string]string `json:"blobs,omitempty"`
	// BFF is the immutable target of the version's BFF: "local", a
	// versioned URL, or a Lambda version or alias ARN (never $LATEST).
	BFF         string       `json:"bff"`
	Settings    bff.Settings `json:"settings,omitempty"`
	PublishedBy string       `json:"published_by"`
	PublishedAt time.Time    `json:"published_at"`
	// Yanked: never served again, kept for audit.
	Yanked bool `json:"yanked,omitempty"`
}

// Kinds of Change.
const (
	KindPublish     = "publish"
	KindPromote     = "promote"
	KindRollback    = "rollback"
	KindRollbackAll = "rollback_all"
	KindYank        = "yank"
	// KindCanary starts a canary, or changes its share of users.
	KindCanary = "canary"
	// KindCanaryAbort ends a canary without promoting it: by a rollback,
	// or by the shell when the canary fails more than the active version.
	KindCanaryAbort = "canary_abort"
	// KindPreview opens a version to whoever holds a preview link, until
	// a time.
	KindPreview = "preview"
)

// A Change is one entry of the history: what moved, who moved it, when, and
// the store revision it made.
type Change struct {
	Revision uint64    `json:"revision"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Kind     string    `json:"kind"`
	Frontend string    `json:"frontend"`
	Label    string    `json:"label"`          // the version published, activated, canaried or yanked
	From     string    `json:"from,omitempty"` // the version active before, for an activation or a canary
	// Percent is the share of users a canary serves, for KindCanary.
	Percent int `json:"percent,omitempty"`
	// Reason says why, when the shell made the change by itself.
	Reason string `json:"reason,omitempty"`
	// Until is when a preview ends, for KindPreview.
	Until time.Time `json:"until,omitzero"`
}

// activates reports whether c made c.Label the active version.
func (c Change) activates() bool {
	return c.Kind == KindPromote || c.Kind == KindRollback || c.Kind == KindRollbackAll
}

// FrontendState is what the store keeps for one frontend besides its
// releases.
type FrontendState struct {
	Name     string   `json:"name"`
	Active   string   `json:"active,omitempty"` // the label served, "" before the first promote
	Versions []string `json:"versions"`         // labels in publish order
	History  []Change `json:"history"`          // this frontend's changes, oldest first
	// Canary is the version served to a share of users besides Active;
	// nil when none runs.
	Canary *Canary `json:"canary,omitempty"`
	// Previews are the versions open to the holders of a preview link, by
	// label; those past their end are dropped at the next change.
	Previews map[string]Preview `json:"previews,omitempty"`
}

// A Preview opens a version, active or not, to the browsers that hold its
// link, until a time.
type Preview struct {
	// Nonce is the link's secret: 32 random hex digits, which the shell
	// compares with the one a browser brings.
	Nonce string    `json:"nonce"`
	Until time.Time `json:"until"`
}

// A Canary serves a version to a share of users, the rest being served the
// active version, each user staying on the side they were given.
type Canary struct {
	Label   string    `json:"label"`
	Percent int       `json:"percent"` // 1 to 99
	Since   time.Time `json:"since"`   // when it started, whatever its share since
}

// State is the whole registry at one revision: what a replica builds its
// snapshot from.
type State struct {
	Revision  uint64
	Frontends map[string]*FrontendState
	Releases  map[string]map[string]*Release // by frontend, then label
}

// Move asks for a frontend's active version to change.
type Move struct {
	Frontend string
	// Label is the version to activate. Required for Promote; for
	// Rollback, optional. Default: the version active before the current
	// one that is not yanked.
	Label string
	// Expect is the label the caller believes active: when another change
	// got there first the move fails as precondition_failed. Optional.
	// Default: no check.
	Expect string
	// Percent, from 1 to 99, makes Promote start a canary of Label (or
	// change its share) instead of activating it. Optional. Default: 0,
	// every user; 100 is the same.
	Percent int
	// Canary is the version a Rollback expects in a canary: it ends that
	// canary, and fails as precondition_failed when none or another runs,
	// rather than roll the active version back. Optional. Default: no
	// check.
	Canary string
	By     string // who asks, for the history
	// Reason says why, when the shell moves by itself. Optional.
	Reason string
	// Until, when set, makes Promote open a preview of Label until then,
	// to the holders of a link with Nonce, instead of activating it.
	// Optional. Default: no preview.
	Until time.Time
	// Nonce is the preview link's secret, 32 hex digits, for Until.
	Nonce string
}

// Store keeps releases and history. Every change is atomic and increments
// the revision by one; a call that changes nothing leaves it. Errors a
// caller caused are *bff.Error with the codes bad_request, not_found,
// conflict and precondition_failed.
type Store interface {
	// Publish adds r (Digest and PublishedAt are set by the store) and
	// returns the release stored and whether it is new. The same content
	// again returns the existing release; the same label with other content
	// is a conflict.
	Publish(ctx context.Context, r *Release) (*Release, bool, error)
	// Promote makes m.Label active.
	Promote(ctx context.Context, m Move) (Change, error)
	// Rollback makes m.Label, or the previous version, active.
	Rollback(ctx context.Context, m Move) (Change, error)
	// RollbackAll activates, for every frontend, the version that was active
	// at the time to. A frontend that had no active version then keeps its
	// own: nothing would serve its slots otherwise.
	RollbackAll(ctx context.Context, to time.Time, by string) ([]Change, error)
	// Yank marks a version never to be served again. The active one is a
	// conflict.
	Yank(ctx context.Context, frontend, label, by string) (Change, error)
	// List returns a frontend's state and releases, in publish order.
	List(ctx context.Context, frontend string) (*FrontendState, []*Release, error)
	// History returns every change after revision since, oldest first.
	History(ctx context.Context, since uint64) ([]Change, error)
	// Load returns the whole state at the current revision.
	Load(ctx context.Context) (*State, error)
	// Revision returns the current revision in one cheap read, so that a
	// replica can poll it and load the state only when it moved.
	Revision(ctx context.Context) (uint64, error)

	// PutToken adds t, or replaces the token of the same ID. Tokens are
	// not part of the revision: they change who may publish, not what is
	// served.
	PutToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token whose Hash is hash: not_found when
	// there is none.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// Tokens returns every token, by ID.
	Tokens(ctx context.Context) ([]*Token, error)
	// RevokeToken deletes the token id: not_found when there is none.
	RevokeToken(ctx context.Context, id string) error
	Close() error
}

// A Watcher tells of changes made by other processes. A store that
// replicas share implements it beside Store.
type Watcher interface {
	// Watch calls changed after every change any process commits, and
	// once each time it (re)connects, since what was sent while it was
	// disconnected is lost; it returns when ctx is done. changed runs on
	// Watch's goroutine, one call at a time: it should only note that the
	// state moved. Watch returns nil when ctx is done, or the error that
	// keeps it from watching at all, such as a closed store.
	Watch(ctx context.Context, changed func()) error
}

// What a token may do.
const (
	// CanPublish uploads versions.
	CanPublish = "publish"
	// CanPromote promotes, rolls back and yanks versions.
	CanPromote = "promote"
	// CanAdmin does anything to any frontend, rolls every frontend back at
	// once, and manages tokens.
	CanAdmin = "admin"
)

// AllFrontends in Token.Frontends lets a token act on every frontend.
const AllFrontends = "*"

// A Token is a bearer credential of the publish API, kept as the hash of
// its secret.
type Token struct {
	// ID names the token in lists, logs and the history ("by"), and to
	// revoke it; it says nothing of the secret.
	ID string `json:"id"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"hash"`
	// Name is a note of what the token is for ("cart's CI").
	Name      string    `json:"name,omitempty"`
	Frontends []string  `json:"frontends"` // names, or AllFrontends
	Can       []string  `json:"can"`       // CanPublish, CanPromote, CanAdmin
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt ends the token; zero: it never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Tx is one transaction of a store, through which the rules of this package
// read and write. A store runs each rule inside one transaction and commits
// it when the rule returns no error.
type Tx interface {
	Revision() (uint64, error)
	SetRevision(uint64) error
	Frontends() ([]string, error)
	// Frontend returns nil, nil when there is none of that name.
	Frontend(name string) (*FrontendState, error)
	PutFrontend(*FrontendState) error
	// Release returns nil, nil when there is none.
	Release(frontend, label string) (*Release, error)
	PutRelease(*Release) error
	// Log appends a change to the global history.
	Log(Change) error
}

// TokenTx is one transaction of a store over its tokens, through which the
// token rules of this package read and write.
type TokenTx interface {
	// Token returns nil, nil when there is none of that ID.
	Token(id string) (*Token, error)
	// TokenByHash returns nil, nil when no token has that hash.
	TokenByHash(hash string) (*Token, error)
	// PutToken stores t in place of old, the token of its ID before (nil
	// when there was none), whose hash then names no token.
	PutToken(t, old *Token) error
	// DeleteToken removes t and its hash.
	DeleteToken(t *Token) error
}

// Errors a caller caused, by code.
func badRequest(format string, a ...any) error {
	return &bff.Error{Code: bff.CodeBadRequest, Message: fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...any) error {
	return &bff.Error{Code: bff.CodeNotFound, Message: fmt.Sprintf(format, a...)}
}

func conflict(format string, a ...any) error {
	return &bff.Error{Code: "conflict", Message: fmt.Sprintf(format, a...)}
}

func precondition(format string, a ...any) error {
	return &bff.Error{Code: "precondition_failed", Message: fmt.Sprintf(format, a...)}
}

// DigestOf is the content digest of a release: everything that makes it
// what it serves, not who published it when. No settings and empty
// settings are the same.
func DigestOf(r *Release) (string, error) {
	settings := r.Settings
	if len(settings) == 0 {
		settings = nil
	}
	data, err := json.Marshal(struct {
		Manifest *build.Manifest   `json:"manifest"`
		Blobs    map[string]string `json:"blobs"`
		BFF      string            `json:"bff"`
		Settings bff.Settings      `json:"settings"`
	}{r.Manifest, r.Blobs, r.BFF, settings})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func check(r *Release) error {
	if err := checkDescriptor(r); err != nil {
		return err
	}
	if m := r.Manifest; r.Frontend == build.SharedName && (m == nil || m.Entry != "" || len(m.Imports) == 0) {
		return badRequest("release %s: the shared dependencies are a manifest with imports and no entry", r.Frontend)
	}
	if m := r.Manifest; m != nil {
		if m.Name != r.Frontend {
			return badRequest("manifest: names frontend %q, published as %q", m.Name, r.Frontend)
		}
		for name := range m.Files {
			if len(r.Blobs[name]) != sha256.Size*2 {
				return badRequest("manifest: file %s has no blob", name)
			}
		}
		if len(r.Blobs) != len(m.Files) {
			return badRequest("release %s: holds blobs the manifest does not name", r.Frontend)
		}
	} else if len(r.Blobs) != 0 {
		return badRequest("release %s: blobs without a manifest", r.Frontend)
	}
	return nil
}

// checkDescriptor checks what a release says besides its bundle: its
// frontend, label, BFF target and settings. The shared dependencies
// (build.SharedName) are a release too, of a bundle alone: no BFF, no
// settings.
func checkDescriptor(r *Release) error {
	if r.Frontend == build.SharedName {
		if r.BFF != "" || len(r.Settings) > 0 {
			return badRequest("release %s: the shared dependencies have no BFF: want no BFF target and no settings", r.Frontend)
		}
	} else if err := build.CheckName(r.Frontend); err != nil {
		return badRequest("frontend: %v", err)
	}
	if r.Label != "" && !build.ValidVersion(r.Label) {
		return badRequest("label %q: use letters, digits, dots, dashes and underscores, at most 64", r.Label)
	}
	if r.BFF == "" && r.Frontend != build.SharedName {
		return badRequest("release %s: no BFF target", r.Frontend)
	}
	if strings.Contains(r.BFF, "$LATEST") {
		return badRequest("BFF target %q: $LATEST changes under a published version; name a Lambda version or alias", r.BFF)
	}
	return nil
}

// next returns the revision a change makes, and records it.
func next(tx Tx) (uint64, error) {
	rev, err := tx.Revision()
	if err != nil {
		return 0, err
	}
	rev++
	return rev, tx.SetRevision(rev)
}

// record logs c in the global history and in f's, and stores f.
func record(tx Tx, f *FrontendState, c Change) error {
	f.History = append(f.History, c)
	if err := tx.PutFrontend(f); err != nil {
		return err
	}
	return tx.Log(c)
}

// ApplyPublish is the rule of Store.Publish, run inside tx.
func ApplyPublish(tx Tx, in *Release, now time.Time) (*Release, bool, error) {
	if err := check(in); err != nil {
		return nil, false, err
	}
	r := *in
	digest, err := DigestOf(&r)
	if err != nil {
		return nil, false, err
	}
	r.Digest, r.PublishedAt, r.Yanked = digest, now.UTC(), false
	f, err := tx.Frontend(r.Frontend)
	if err != nil {
		return nil, false, err
	}
	if f == nil {
		f = &FrontendState{Name: r.Frontend}
	}
	if r.Label == "" {
		// Without a label the same content is the same release, whatever
		// label it was published under.
		for _, label := range f.Versions {
			old, err := tx.Release(r.Frontend, label)
			if err != nil {
				return nil, false, err
			}
			if old != nil && old.Digest == digest {
				return old, false, nil
			}
		}
		r.Label = strings.TrimPrefix(digest, "sha256:")[:12]
	}
	old, err := tx.Release(r.Frontend, r.Label)
	if err != nil {
		return nil, false, err
	}
	if old != nil {
		if old.Digest == digest {
			return old, false, nil
		}
		return nil, false, conflict("%s %s is published already with other content (%s); versions are immutable: publish under another label", r.Frontend, r.Label, old.Digest)
	}
	rev, err := next(tx)
	if err != nil {
		return nil, false, err
	}
	if err := tx.PutRelease(&r); err != nil {
		return nil, false, err
	}
	f.Versions = append(f.Versions, r.Label)
	c := Change{Revision: rev, At: r.PublishedAt, By: r.PublishedBy, Kind: KindPublish, Frontend: r.Frontend, Label: r.Label}
	return &r, true, record(tx, f, c)
}

// servable returns the release frontend/label, or why it cannot be active.
func servable(tx Tx, frontend, label string) (*FrontendState, error) {
	f, err := tx.Frontend(frontend)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, notFound("frontend %s has no published version", frontend)
	}
	r, err := tx.Release(frontend, label)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, notFound("%s has no version %s", frontend, label)
	}
	if r.Yanked {
		return nil, conflict("%s %s is yanked: it is never served again", frontend, label)
	}
	return f, nil
}

// activate makes label active with a change of kind, if it is not already.
func activate(tx Tx, m Move, kind string, now time.Time) (Change, error) {
	f, err := servable(tx, m.Frontend, m.Label)
	if err != nil {
		return Change{}, err
	}
	if m.Expect != "" && f.Active != m.Expect {
		return Change{}, precondition("%s: expected %s active, found %s: another change got there first", m.Frontend, m.Expect, orNone(f.Active))
	}
	c := Change{At: now.UTC(), By: m.By, Kind: kind, Frontend: m.Frontend, Label: m.Label, From: f.Active, Reason: m.Reason}
	if f.Active == m.Label && f.Canary == nil {
		rev, err := tx.Revision()
		c.Revision = rev
		return c, err
	}
	if c.Revision, err = next(tx); err != nil {
		return Change{}, err
	}
	// A canary is measured against the active version: a new active one
	// ends it.
	f.Active, f.Canary = m.Label, nil
	return c, record(tx, f, c)
}

// canary starts a canary of m.Label at m.Percent, or changes its share.
func canary(tx Tx, m Move, now time.Time) (Change, error) {
	if m.Frontend == build.SharedName {
		return Change{}, badRequest("the shared dependencies are served to every page at once: they cannot be canaried")
	}
	f, err := servable(tx, m.Frontend, m.Label)
	if err != nil {
		return Change{}, err
	}
	if m.Expect != "" && f.Active != m.Expect {
		return Change{}, precondition("%s: expected %s active, found %s: another change got there first", m.Frontend, m.Expect, orNone(f.Active))
	}
	if f.Active == "" {
		return Change{}, conflict("%s has no active version to compare a canary with: promote one first", m.Frontend)
	}
	if f.Active == m.Label {
		return Change{}, conflict("%s %s is active already: a canary serves another version", m.Frontend, m.Label)
	}
	c := Change{At: now.UTC(), By: m.By, Kind: KindCanary, Frontend: m.Frontend, Label: m.Label, From: f.Active, Percent: m.Percent, Reason: m.Reason}
	since := c.At
	if old := f.Canary; old != nil && old.Label == m.Label {
		if old.Percent == m.Percent {
			c.Revision, err = tx.Revision()
			return c, err
		}
		since = old.Since
	}
	if c.Revision, err = next(tx); err != nil {
		return Change{}, err
	}
	f.Canary = &Canary{Label: m.Label, Percent: m.Percent, Since: since}
	return c, record(tx, f, c)
}

// preview opens m.Label to the holders of a link with m.Nonce until
// m.Until, dropping the previews of the frontend that have ended.
func preview(tx Tx, m Move, now time.Time) (Change, error) {
	if len(m.Nonce) != 32 || strings.Trim(m.Nonce, "0123456789abcdef") != "" {
		return Change{}, badRequest("preview %s %s: the nonce is not 32 hex digits", m.Frontend, m.Label)
	}
	if !m.Until.After(now) {
		return Change{}, badRequest("preview %s %s: it would end at %s, already past", m.Frontend, m.Label, m.Until.UTC().Format(time.RFC3339))
	}
	if m.Frontend == build.SharedName {
		return Change{}, badRequest("the shared dependencies are served to every page at once: they cannot be previewed")
	}
	f, err := servable(tx, m.Frontend, m.Label)
	if err != nil {
		return Change{}, err
	}
	c := Change{At: now.UTC(), By: m.By, Kind: KindPreview, Frontend: m.Frontend, Label: m.Label, From: f.Active, Until: m.Until.UTC()}
	if c.Revision, err = next(tx); err != nil {
		return Change{}, err
	}
	for label, p := range f.Previews {
		if !p.Until.After(now) {
			delete(f.Previews, label)
		}
	}
	if f.Previews == nil {
		f.Previews = map[string]Preview{}
	}
	f.Previews[m.Label] = Preview{Nonce: m.Nonce, Until: m.Until.UTC()}
	return c, record(tx, f, c)
}

func canaryOrNone(c *Canary) string {
	if c == nil {
		return "none"
	}
	return c.Label
}

func orNone(label string) string {
	if label == "" {
		return "none"
	}
	return label
}

// ApplyPromote is the rule of Store.Promote, run inside tx.
func ApplyPromote(tx Tx, m Move, now time.Time) (Change, error) {
	if m.Label == "" {
		return Change{}, badRequest("promote %s: which version?", m.Frontend)
	}
	switch {
	case !m.Until.IsZero():
		return preview(tx, m, now)
	case m.Percent < 0 || m.Percent > 100:
		return Change{}, badRequest("promote %s %s: a canary's share is a percentage, 1 to 99 (100: every user), not %d", m.Frontend, m.Label, m.Percent)
	case m.Percent > 0 && m.Percent < 100:
		return canary(tx, m, now)
	}
	return activate(tx, m, KindPromote, now)
}

// ApplyRollback is the rule of Store.Rollback, run inside tx.
func ApplyRollback(tx Tx, m Move, now time.Time) (Change, error) {
	if m.Label == "" {
		f, err := tx.Frontend(m.Frontend)
		if err != nil {
			return Change{}, err
		}
		if f == nil {
			return Change{}, notFound("frontend %s has no published version", m.Frontend)
		}
		if m.Expect != "" && f.Active != m.Expect {
			return Change{}, precondition("%s: expected %s active, found %s: another change got there first", m.Frontend, m.Expect, orNone(f.Active))
		}
		if m.Canary != "" && (f.Canary == nil || f.Canary.Label != m.Canary) {
			return Change{}, precondition("%s: expected a canary of %s, found %s: another change got there first", m.Frontend, m.Canary, canaryOrNone(f.Canary))
		}
		if f.Canary != nil {
			// Rolling back a canary ends it: every user gets the active
			// version again.
			c := Change{At: now.UTC(), By: m.By, Kind: KindCanaryAbort, Frontend: m.Frontend, Label: f.Canary.Label, From: f.Active, Reason: m.Reason}
			if c.Revision, err = next(tx); err != nil {
				return Change{}, err
			}
			f.Canary = nil
			return c, record(tx, f, c)
		}
		for i := len(f.History) - 1; i >= 0 && m.Label == ""; i-- {
			c := f.History[i]
			if !c.activates() || c.Label == f.Active {
				continue
			}
			r, err := tx.Release(m.Frontend, c.Label)
			if err != nil {
				return Change{}, err
			}
			if r != nil && !r.Yanked {
				m.Label = c.Label
			}
		}
		if m.Label == "" {
			return Change{}, conflict("%s: no earlier version to roll back to", m.Frontend)
		}
	}
	return activate(tx, m, KindRollback, now)
}

// ApplyRollbackAll is the rule of Store.RollbackAll, run inside tx: one
// revision for the whole move.
func ApplyRollbackAll(tx Tx, to time.Time, by string, now time.Time) ([]Change, error) {
	names, err := tx.Frontends()
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var changes []Change
	var states []*FrontendState
	for _, name := range names {
		f, err := tx.Frontend(name)
		if err != nil {
			return nil, err
		}
		label := ""
		for _, c := range f.History {
			if c.At.After(to) {
				break
			}
			if c.activates() {
				label = c.Label
			}
		}
		if f.Canary != nil {
			// Back to how things were: no canary runs.
			changes = append(changes, Change{At: now.UTC(), By: by, Kind: KindCanaryAbort, Frontend: name, Label: f.Canary.Label, From: f.Active})
			f.Canary = nil
			states = append(states, f)
		}
		if label == "" || label == f.Active {
			continue
		}
		if _, err := servable(tx, name, label); err != nil {
			return nil, fmt.Errorf("roll back to %s: %w", to.UTC().Format(time.RFC3339), err)
		}
		changes = append(changes, Change{At: now.UTC(), By: by, Kind: KindRollbackAll, Frontend: name, Label: label, From: f.Active})
		f.Active = label
		states = append(states, f)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	rev, err := next(tx)
	if err != nil {
		return nil, err
	}
	for i := range changes {
		changes[i].Revision = rev
		if err := record(tx, states[i], changes[i]); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// ApplyYank is the rule of Store.Yank, run inside tx.
func ApplyYank(tx Tx, frontend, label, by string, now time.Time) (Change, error) {
	f, err := tx.Frontend(frontend)
	if err != nil {
		return Change{}, err
	}
	var r *Release
	if f != nil {
		if r, err = tx.Release(frontend, label); err != nil {
			return Change{}, err
		}
	}
	if r == nil {
		return Change{}, notFound("%s has no version %s", frontend, label)
	}
	if f.Active == label {
		return Change{}, conflict("%s %s is active: promote or roll back to another version first", frontend, label)
	}
	if f.Canary != nil && f.Canary.Label == label {
		return Change{}, conflict("%s %s is in a canary: roll it back first (collage rollback %s)", frontend, label, frontend)
	}
	c := Change{At: now.UTC(), By: by, Kind: KindYank, Frontend: frontend, Label: label}
	if r.Yanked {
		c.Revision, err = tx.Revision()
		return c, err
	}
	if c.Revision, err = next(tx); err != nil {
		return Change{}, err
	}
	r.Yanked = true
	delete(f.Previews, label) // never served again, even to a preview
	if err := tx.PutRelease(r); err != nil {
		return Change{}, err
	}
	return c, record(tx, f, c)
}

// ApplyList is the rule of Store.List, run inside tx.
func ApplyList(tx Tx, frontend string) (*FrontendState, []*Release, error) {
	f, err := tx.Frontend(frontend)
	if err != nil {
		return nil, nil, err
	}
	if f == nil {
		return nil, nil, notFound("frontend %s has no published version", frontend)
	}
	rs := make([]*Release, 0, len(f.Versions))
	for _, label := range f.Versions {
		r, err := tx.Release(frontend, label)
		if err != nil {
			return nil, nil, err
		}
		if r == nil {
			return nil, nil, fmt.Errorf("registry store: %s lists version %s, which it does not hold", frontend, label)
		}
		rs = append(rs, r)
	}
	return f, rs, nil
}

// ApplyPutToken is the rule of Store.PutToken, run inside tx. A token needs
// an ID and a hash of 64 hex digits, and a hash names one token only.
func ApplyPutToken(tx TokenTx, t *Token) error {
	if t.ID == "" {
		return badRequest("token: no ID")
	}
	if _, err := hex.DecodeString(t.Hash); err != nil || len(t.Hash) != sha256.Size*2 {
		return badRequest("token %s: its hash is not 64 hex digits", t.ID)
	}
	other, err := tx.TokenByHash(t.Hash)
	if err != nil {
		return err
	}
	if other != nil && other.ID != t.ID {
		return conflict("token %s: token %s has the same hash; a secret serves one token only", t.ID, other.ID)
	}
	old, err := tx.Token(t.ID)
	if err != nil {
		return err
	}
	return tx.PutToken(t, old)
}

// ApplyTokenByHash is the rule of Store.TokenByHash, run inside tx.
func ApplyTokenByHash(tx TokenTx, hash string) (*Token, error) {
	t, err := tx.TokenByHash(hash)
	if err == nil && t == nil {
		err = notFound("no token has that secret")
	}
	return t, err
}

// ApplyRevokeToken is the rule of Store.RevokeToken, run inside tx.
func ApplyRevokeToken(tx TokenTx, id string) error {
	t, err := tx.Token(id)
	if err != nil {
		return err
	}
	if t == nil {
		return notFound("there is no token %s", id)
	}
	return tx.DeleteToken(t)
}

// Counters add to counts that every replica shares, such as a canary's
// outcomes. A store that one process holds alone needs none: its
// replica's own counts are all there is.
type Counters interface {
	// Count adds deltas to the counts under key, kept for ttl after the
	// last change, and returns the totals.
	Count(ctx context.Context, key string, deltas map[string]int64, ttl time.Duration) (map[string]int64, error)
}
