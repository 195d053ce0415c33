package shell

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

// PreviewParam is the query parameter of a preview link:
// ?collage-preview=NAME:LABEL:NONCE. A page opened with a valid one sets
// PreviewCookie and sends the browser back to the page without it.
const PreviewParam = "collage-preview"

// PreviewCookie holds the preview a browser was given: one at a time, for
// as long as the preview lasts. It is the shell's own, and reaches no BFF.
const PreviewCookie = "collage_preview"

// PreviewToken is the value of a preview link and cookie.
func PreviewToken(frontend, label, nonce string) string {
	return frontend + ":" + label + ":" + nonce
}

// previewOf returns the frontend and version a preview token opens in
// snap at now: ok is false for a token that is malformed, ended, or not
// one the registry made.
func previewOf(snap *registry.Snapshot, token string, now time.Time) (frontend, label string, ok bool) {
	frontend, rest, _ := strings.Cut(token, ":")
	label, nonce, _ := strings.Cut(rest, ":")
	p, found := snap.Previews[frontend][label]
	if !found || !now.Before(p.Until) || subtle.ConstantTimeCompare([]byte(nonce), []byte(p.Nonce)) != 1 {
		return "", "", false
	}
	return frontend, label, true
}

// preview is previewOf for the token of a link or a cookie. A token not in
// snap may be of a preview made through another replica a moment ago: the
// shell then catches up with its store and looks again, in the snapshot it
// returns.
func (sh *Shell) preview(snap *registry.Snapshot, token string) (_ *registry.Snapshot, frontend, label string, ok bool) {
	if frontend, label, ok = previewOf(snap, token, time.Now()); ok || !sh.catchUp() {
		return snap, frontend, label, ok
	}
	snap = sh.Registry().Current()
	frontend, label, ok = previewOf(snap, token, time.Now())
	return snap, frontend, label, ok
}

// previewCookie is the Set-Cookie of a preview token, lasting until until.
func previewCookie(req Request, token string, until time.Time) string {
	c := &http.Cookie{Name: PreviewCookie, Value: token, Path: "/", MaxAge: int(time.Until(until).Seconds()) + 1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: req.Scheme() == "https"}
	return c.String()
}

// cookie returns the value of the browser's cookie called name, or "".
func cookie(req Request, name string) string {
	for _, c := range splitCookies([]string{req.Header("Cookie")}) {
		if n, v, _ := strings.Cut(c, "="); n == name {
			return strings.Clone(v)
		}
	}
	return ""
}

// withoutPreview is the path and query of req without PreviewParam, where
// a preview link sends the browser once its cookie is set.
func withoutPreview(req Request, q url.Values) string {
	q.Del(PreviewParam)
	if len(q) == 0 {
		return req.Path()
	}
	return req.Path() + "?" + q.Encode()
}
