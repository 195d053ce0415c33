package dev

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/collage-dev/collage/build"
)

// goErrorRE is a line of the go command's errors: file.go:line[:column]: message.
var goErrorRE = regexp.MustCompile(`^(\S+\.go):(\d+)(?::(\d+))?: (.+)$`)

// GoProblem is the problem of a go build of the project in root that
// failed with output: the first error, with the lines of source around
// it, and every line of output after the frame.
func GoProblem(root, output string) Problem {
	output = strings.TrimSpace(output)
	p := Problem{Source: SourceGo, Message: output}
	for _, line := range strings.Split(output, "\n") {
		m := goErrorRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		file := filepath.ToSlash(filepath.Clean(m[1]))
		if filepath.IsAbs(m[1]) {
			if rel, err := filepath.Rel(root, m[1]); err == nil && filepath.IsLocal(rel) {
				file = filepath.ToSlash(rel)
			}
		}
		p.File, p.Message = file, m[4]
		p.Line, _ = strconv.Atoi(m[2])
		p.Column, _ = strconv.Atoi(m[3])
		p.Frame = frame(root, build.Message{File: file, Line: p.Line, Column: p.Column})
		if p.Frame != "" {
			p.Frame += "\n\n"
		}
		p.Frame += output
		break
	}
	return p
}
