package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// SecretPrefix starts every secret NewSecret makes, so that a scanner of
// leaked credentials can tell one.
const SecretPrefix = "collage_"

// NewSecret returns a new token secret (SecretPrefix and 32 random bytes in
// unpadded base64url), the hash the store keeps of it, and the token ID it
// makes: the first 12 hex digits of the hash.
func NewSecret() (secret, hash, id string) {
	var b [32]byte
	rand.Read(b[:]) // never fails
	secret = SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	hash = hashSecret(secret)
	return secret, hash, hash[:12]
}

// hashSecret is the hex SHA-256 of a secret, as registry.Token.Hash keeps
// it. The secrets are random, so a fast hash does: there is nothing to
// guess from it.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// by names a token in the history: its name and ID, or its ID alone.
func by(t *registry.Token) string {
	if t.Name == "" {
		return t.ID
	}
	return t.Name + " (" + t.ID + ")"
}

func unauthorized(format string, a ...any) error {
	return &bff.Error{Code: "unauthorized", Message: fmt.Sprintf(format, a...)}
}

// authenticate returns the token of an Authorization header.
func (a *API) authenticate(ctx context.Context, header string) (*registry.Token, error) {
	scheme, secret, _ := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, unauthorized("no token: send Authorization: Bearer TOKEN")
	}
	t, err := a.o.Store.TokenByHash(ctx, hashSecret(secret))
	if code(err) == bff.CodeNotFound {
		return nil, unauthorized("the token is not known here: it may have been revoked")
	}
	if err != nil {
		return nil, err
	}
	if !t.ExpiresAt.IsZero() && !a.o.Now().Before(t.ExpiresAt) {
		return nil, unauthorized("token %s expired at %s", by(t), t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}

func isAdmin(t *registry.Token) bool { return slices.Contains(t.Can, registry.CanAdmin) }

// covers reports whether t names frontend. AllFrontends covers every
// frontend but the shared dependencies, which every frontend builds on:
// only an admin or a token that names them changes them.
func covers(t *registry.Token, frontend string) bool {
	return isAdmin(t) || slices.Contains(t.Frontends, frontend) ||
		frontend != build.SharedName && slices.Contains(t.Frontends, registry.AllFrontends)
}

// may checks that c's token may do what on c.name: publish or promote.
func (c *call) may(what string) error {
	if isAdmin(c.tok) || slices.Contains(c.tok.Can, what) && covers(c.tok, c.name) {
		return nil
	}
	return c.forbidden(what + " " + c.name)
}

// mayRead checks that c's token may read c.name: any token that covers
// it, and any token for the shared dependencies, which every team builds
// against.
func (c *call) mayRead() error {
	if c.name == build.SharedName || covers(c.tok, c.name) {
		return nil
	}
	return c.forbidden("read " + c.name)
}

// mayAdmin checks that c's token is an admin's.
func (c *call) mayAdmin(doing string) error {
	if isAdmin(c.tok) {
		return nil
	}
	return c.forbidden(doing)
}

func (c *call) forbidden(doing string) error {
	return &bff.Error{Code: bff.CodeForbidden, Message: fmt.Sprintf("token %s may not %s", c.by, doing)}
}

// The token Bootstrap keeps for COLLAGE_ADMIN_TOKEN.
const (
	envTokenID   = "admin-env"
	envTokenName = "COLLAGE_ADMIN_TOKEN"
	// minEnvToken is the shortest admin secret taken from the environment.
	minEnvToken = 16
)

// Bootstrap gives st its admin credential at the shell's start. With
// envToken, the value of COLLAGE_ADMIN_TOKEN, it keeps that secret's hash
// as the admin token "admin-env", in place of an older one; a secret
// shorter than 16 characters is an error. Without it, it deletes a stored
// "admin-env" (the operator took the variable away), then, when st holds
// no token at all, makes an admin token and returns its secret, which the
// caller shows once: it is kept nowhere.
func Bootstrap(ctx context.Context, st registry.Store, envToken string, now time.Time) (oneTime string, err error) {
	if envToken != "" {
		if len(envToken) < minEnvToken {
			return "", fmt.Errorf("%s is %d characters long: use a secret of at least %d, such as the output of `openssl rand -base64 32`",
				envTokenName, len(envToken), minEnvToken)
		}
		hash := hashSecret(envToken)
		t, err := st.TokenByHash(ctx, hash)
		switch {
		case code(err) == bff.CodeNotFound:
		case err != nil:
			return "", err
		case t.ID == envTokenID:
			return "", nil
		default:
			return "", fmt.Errorf("%s is the secret of token %s already: choose another", envTokenName, by(t))
		}
		return "", st.PutToken(ctx, &registry.Token{ID: envTokenID, Hash: hash, Name: envTokenName,
			Frontends: []string{registry.AllFrontends}, Can: []string{registry.CanAdmin},
			CreatedBy: envTokenName, CreatedAt: now.UTC()})
	}
	if err := st.RevokeToken(ctx, envTokenID); err != nil && code(err) != bff.CodeNotFound {
		return "", err
	}
	ts, err := st.Tokens(ctx)
	if err != nil || len(ts) > 0 {
		return "", err
	}
	secret, hash, id := NewSecret()
	if err := st.PutToken(ctx, &registry.Token{ID: id, Hash: hash, Name: "first admin",
		Frontends: []string{registry.AllFrontends}, Can: []string{registry.CanAdmin},
		CreatedBy: "collage serve", CreatedAt: now.UTC()}); err != nil {
		return "", err
	}
	return secret, nil
}
