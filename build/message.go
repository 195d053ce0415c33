package build

import "fmt"

// Message is one build error or warning, with its place in the source.
type Message struct {
	File   string `json:"file,omitempty"`   // relative to the project root
	Line   int    `json:"line,omitempty"`   // 1-based
	Column int    `json:"column,omitempty"` // 1-based
	Text   string `json:"text"`
	Source string `json:"source,omitempty"` // the line of source at fault
}

// String formats m like a compiler does: file:line:col: text.
func (m Message) String() string {
	switch {
	case m.File == "":
		return m.Text
	case m.Line == 0:
		return fmt.Sprintf("%s: %s", m.File, m.Text)
	}
	return fmt.Sprintf("%s:%d:%d: %s", m.File, m.Line, m.Column, m.Text)
}
