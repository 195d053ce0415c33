package testbin

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var (
	versionsRE = regexp.MustCompile(`<meta name="collage-versions" content="([^"]*)">`)
	importRE   = regexp.MustCompile(`<script type="importmap"[^>]*>(.*?)</script>`)
)

// Versions reads the collage-versions meta of a page: the label of each
// frontend's version it was rendered with. It returns an error when the
// page has none.
func Versions(body string) (url.Values, error) {
	m := versionsRE.FindStringSubmatch(body)
	if m == nil {
		return nil, errors.New("no collage-versions meta")
	}
	v, err := url.ParseQuery(html.UnescapeString(m[1]))
	if err != nil {
		return nil, fmt.Errorf("the collage-versions meta %q: %w", m[1], err)
	}
	return v, nil
}

// An ImportMap is a page's import map: its modules' URLs and their
// integrity.
type ImportMap struct {
	Imports   map[string]string `json:"imports"`
	Integrity map[string]string `json:"integrity"`
}

// PageImportMap returns the import map of a page, and fails the test when
// the page has none that gives an integrity.
func PageImportMap(t testing.TB, body string) ImportMap {
	t.Helper()
	m := importRE.FindStringSubmatch(body)
	var im ImportMap
	if m == nil || json.Unmarshal([]byte(m[1]), &im) != nil || len(im.Integrity) == 0 {
		t.Fatalf("the page has no import map with integrity:\n%s", body)
	}
	return im
}

// Send sends req with c and returns the answer with its body read; it
// fails the test when there is no answer.
func Send(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return resp, body
}
