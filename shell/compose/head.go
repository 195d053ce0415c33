package compose

import (
	"io"
	"strings"
)

// Head is the HTML the shell writes before </head>, with a nonce placed in
// it per request.
type Head struct{ parts [][]byte }

// NewHead prepares html, in which every occurrence of placeholder is
// replaced by the request's nonce.
func NewHead(html, placeholder string) Head {
	var h Head
	for _, p := range strings.Split(html, placeholder) {
		h.parts = append(h.parts, []byte(p))
	}
	return h
}

func (h Head) empty() bool {
	for _, p := range h.parts {
		if len(p) > 0 {
			return false
		}
	}
	return true
}

func (h Head) write(w io.Writer, nonce string) error {
	for i, p := range h.parts {
		if i > 0 {
			if _, err := io.WriteString(w, nonce); err != nil {
				return err
			}
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}
