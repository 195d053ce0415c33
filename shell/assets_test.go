package shell

import (
	"path"
	"strings"
	"testing"
)

func TestContentType(t *testing.T) {
	// What a frontend's build writes: from the shell's own table, so the
	// same on every host, whatever its mime.types.
	for name, want := range map[string]string{
		"main-3FQZ.js":        "text/javascript; charset=utf-8",
		"main-3FQZ.js.map":    "application/json",
		"main-3FQZ.css":       "text/css; charset=utf-8",
		"main-3FQZ.LEGAL.txt": "text/plain; charset=utf-8",
		"logo-AB12.svg":       "image/svg+xml",
		"hero-AB12.png":       "image/png",
		"hero-AB12.jpg":       "image/jpeg",
		"hero-AB12.webp":      "image/webp",
		"font-EF.woff2":       "font/woff2",
		"HERO.PNG":            "image/png",
	} {
		if _, fixed := assetTypes[strings.ToLower(path.Ext(name))]; !fixed {
			t.Errorf("%s: its type is the host's, not the shell's own", name)
		}
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
	// Others from the mime package, or none.
	for name, want := range map[string]string{
		"terms.pdf": "application/pdf",
		"data.bin9": "application/octet-stream",
		"README":    "application/octet-stream",
	} {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}
