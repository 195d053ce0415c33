package cart

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/collage-dev/collage/bff"
)

// settingSessionKey names the setting that holds the key sessions are
// signed with, as hex.
const settingSessionKey = "session_key"

// minSessionKeyBytes is the shortest session key accepted: the size of an
// HMAC-SHA256 output.
const minSessionKeyBytes = sha256.Size

const (
	idBytes = 16 // a session id: 128 random bits

	// A cookie's value is the id in hex, a dot, and the HMAC-SHA256 of the
	// id in unpadded base64url.
	idLen     = 2 * idBytes
	macLen    = 43 // base64.RawURLEncoding.EncodedLen(sha256.Size)
	cookieLen = idLen + 1 + macLen
)

// signer issues session ids and checks the cookies that carry them.
type signer struct{ key []byte }

// sessionKey returns the key of settings s, or a new random one and
// false when s has none.
func sessionKey(s bff.Settings) (key []byte, set bool, err error) {
	v := s[settingSessionKey]
	if v == "" {
		key = make([]byte, minSessionKeyBytes)
		rand.Read(key) // never fails: see crypto/rand.Read
		return key, false, nil
	}
	key, err = hex.DecodeString(v)
	if err != nil {
		// The value is a secret: say what is wrong with it, never what it is.
		return nil, false, fmt.Errorf("cart: setting %s is not hex (%d characters, want %d or more hex digits)",
			settingSessionKey, len(v), 2*minSessionKeyBytes)
	}
	if len(key) < minSessionKeyBytes {
		return nil, false, fmt.Errorf("cart: setting %s holds %d bytes, want at least %d (%d hex digits)",
			settingSessionKey, len(key), minSessionKeyBytes, 2*minSessionKeyBytes)
	}
	return key, true, nil
}

// mac is the signature of a session id. The cookie's name is part of what
// is signed, so a key reused elsewhere signs nothing the cart accepts.
func (s signer) mac(id []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(CookieName + "\x00"))
	h.Write(id)
	return h.Sum(nil)
}

// issue returns a new session id and the cookie value that carries it.
func (s signer) issue() (id, value string) {
	var b [idBytes]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	id = hex.EncodeToString(b[:])
	return id, id + "." + base64.RawURLEncoding.EncodeToString(s.mac(b[:]))
}

// verify returns the session id a cookie value carries, if this signer
// signed it.
func (s signer) verify(value string) (string, bool) {
	if len(value) != cookieLen || value[idLen] != '.' {
		return "", false
	}
	id, err := hex.DecodeString(value[:idLen])
	if err != nil {
		return "", false
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(value[idLen+1:])
	if err != nil || !hmac.Equal(sig, s.mac(id)) {
		return "", false
	}
	// Lower-case hex only: the id is the store's key, so one id has one
	// spelling.
	if hex.EncodeToString(id) != value[:idLen] {
		return "", false
	}
	return value[:idLen], true
}

// visit is whose cart a request is for.
type visit struct {
	id string
	// returning is true when the request carried the session's signed
	// cookie: the client kept what the cart gave it, as a browser does
	// and a flood of one-off requests does not.
	returning bool
}

// session returns the visit of an API call: the session of its cookie
// when the cookie is one the cart signed, else a new session whose cookie
// the response sets. A client never picks its id.
func (s signer) session(ctx context.Context) visit {
	if id, ok := s.sessionOf(ctx); ok {
		return visit{id: id, returning: true}
	}
	id, value := s.issue()
	bff.SetCookie(ctx, &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return visit{id: id}
}

// sessionOf returns the session id of the request's cookie, if the cart
// signed it.
func (s signer) sessionOf(ctx context.Context) (string, bool) {
	v, ok := bff.Cookie(ctx, CookieName)
	if !ok {
		return "", false
	}
	return s.verify(v)
}
