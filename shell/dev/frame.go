package dev

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/collage-dev/collage/build"
)

// frameLines is how many lines of source a frame shows on either side of
// the line at fault.
const frameLines = 2

// frame shows where m is, as compilers do: the lines around m.Line of its
// file under root, numbered, the line at fault marked with ">" and a caret
// under its column. Without the file it shows m.Source alone; "" when m
// has no line.
func frame(root string, m build.Message) string {
	if m.Line == 0 {
		return ""
	}
	var lines []string
	first := m.Line
	if data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File))); err == nil {
		all := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
		if m.Line <= len(all) {
			first = max(1, m.Line-frameLines)
			lines = all[first-1 : min(len(all), m.Line+frameLines)]
		}
	}
	if lines == nil {
		if m.Source == "" {
			return ""
		}
		lines = []string{m.Source}
	}
	width := len(fmt.Sprint(first + len(lines) - 1))
	var b strings.Builder
	for i, line := range lines {
		n := first + i
		mark := " "
		if n == m.Line {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s %*d | %s\n", mark, width, n, strings.ReplaceAll(line, "\t", "    "))
		if n == m.Line && m.Column > 0 {
			col := len(strings.ReplaceAll(line[:min(len(line), m.Column-1)], "\t", "    "))
			fmt.Fprintf(&b, "  %s | %s^\n", strings.Repeat(" ", width), strings.Repeat(" ", col))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
