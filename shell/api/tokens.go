package api

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// tokenInfo is a token as the API shows it: never its secret or hash.
type tokenInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Frontends []string  `json:"frontends"`
	Can       []string  `json:"can"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func infoOf(t *registry.Token) tokenInfo {
	return tokenInfo{ID: t.ID, Name: t.Name, Frontends: t.Frontends, Can: t.Can, CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
}

// maxTokenName bounds a token's name.
const maxTokenName = 100

// createToken answers POST /tokens.
func (a *API) createToken(c *call) error {
	var in struct {
		Name      string   `json:"name"`
		Frontends []string `json:"frontends"`
		Can       []string `json:"can"`
		Expires   string   `json:"expires"`
	}
	if err := a.decode(c, &in, false); err != nil {
		return err
	}
	if err := c.mayAdmin("manage tokens"); err != nil {
		return err
	}
	if len(in.Name) > maxTokenName || strings.ContainsFunc(in.Name, unicode.IsControl) {
		return badRequest("name", "a name of at most %d characters, without control characters", maxTokenName)
	}
	if len(in.Frontends) == 0 {
		return badRequest("frontends", "which frontends? name them, or \"*\" for all but %s", build.SharedName)
	}
	for _, name := range in.Frontends {
		if name != registry.AllFrontends && !a.known[name] {
			return badRequest("frontends", "%s", a.unknown(name))
		}
	}
	if len(in.Can) == 0 {
		return badRequest("can", "what may the token do? publish, promote or admin")
	}
	for _, can := range in.Can {
		switch can {
		case registry.CanPublish, registry.CanPromote, registry.CanAdmin:
		default:
			return badRequest("can", "%q: a token may publish, promote or admin", can)
		}
	}
	now := a.o.Now().UTC()
	secret, hash, id := NewSecret()
	t := &registry.Token{ID: id, Hash: hash, Name: in.Name, Frontends: slices.Compact(slices.Sorted(slices.Values(in.Frontends))),
		Can: slices.Compact(slices.Sorted(slices.Values(in.Can))), CreatedBy: c.by, CreatedAt: now}
	if in.Expires != "" {
		d, err := time.ParseDuration(in.Expires)
		if err != nil || d <= 0 {
			return badRequest("expires", "%q: want a positive duration, such as 720h", in.Expires)
		}
		t.ExpiresAt = now.Add(d)
	}
	if err := a.o.Store.PutToken(c.ctx, t); err != nil {
		return err
	}
	a.o.Log.Info("registry change", "kind", "token_create", "token", t.ID, "name", t.Name, "frontends", t.Frontends,
		"can", t.Can, "expires_at", t.ExpiresAt, "by", c.by)
	return reply(c, http.StatusCreated, struct {
		Token string `json:"token"`
		tokenInfo
	}{secret, infoOf(t)})
}

// listTokens answers GET /tokens.
func (a *API) listTokens(c *call) error {
	if err := c.mayAdmin("manage tokens"); err != nil {
		return err
	}
	ts, err := a.o.Store.Tokens(c.ctx)
	if err != nil {
		return err
	}
	out := struct {
		Tokens []tokenInfo `json:"tokens"`
	}{make([]tokenInfo, 0, len(ts))}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, infoOf(t))
	}
	return reply(c, http.StatusOK, out)
}

// revokeToken answers DELETE /tokens/ID.
func (a *API) revokeToken(c *call) error {
	if err := c.mayAdmin("manage tokens"); err != nil {
		return err
	}
	if err := a.o.Store.RevokeToken(c.ctx, c.id); err != nil {
		return err
	}
	a.o.Log.Info("registry change", "kind", "token_revoke", "token", c.id, "by", c.by)
	return reply(c, http.StatusOK, struct {
		Revoked string `json:"revoked"`
	}{c.id})
}
