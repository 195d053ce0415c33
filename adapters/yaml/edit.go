package yaml

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AddFrontend returns data, the text of the config file at path, with the
// frontend name added under frontends as `name: { bff: local }`, on a line
// of its own after the last entry, indented as the entries are (and its
// value aligned with theirs when they align their values). The rest of
// the text, its comments and its order, stays as it was. It refuses a
// name already listed, and a frontends mapping written inline.
func AddFrontend(path string, data []byte, name string) ([]byte, error) {
	fail := func(n *yaml.Node, format string, args ...any) error { return nodeError(path, n, format, args...) }
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fail(nil, "the top level must be a mapping with layouts, routes and frontends")
	}
	root := doc.Content[0]
	var key, frontends *yaml.Node
	next := 0 // the line of the top-level key after frontends, or 0
	for i := 0; i < len(root.Content); i += 2 {
		if root.Content[i].Value == "frontends" {
			key, frontends = root.Content[i], root.Content[i+1]
			if i+2 < len(root.Content) {
				next = root.Content[i+2].Line
			}
		}
	}
	switch {
	case frontends == nil:
		return nil, fail(nil, "no frontends: to add %s to", name)
	case frontends.Kind != yaml.MappingNode || len(frontends.Content) == 0:
		return nil, fail(key, "frontends must map at least one frontend name to { bff: … }")
	case frontends.Style&yaml.FlowStyle != 0:
		return nil, fail(key, "frontends is written inline, { … }: write one frontend a line to let %s be added", name)
	}
	aligned := 0 // the column of every value, when they align, or 0
	for i := 0; i < len(frontends.Content); i += 2 {
		k, v := frontends.Content[i], frontends.Content[i+1]
		if k.Value == name {
			return nil, fail(k, "frontend %q is already listed", name)
		}
		switch {
		case v.Style&yaml.FlowStyle == 0 || v.Line != k.Line || aligned != 0 && v.Column != aligned:
			aligned = -1
		case aligned == 0:
			aligned = v.Column
		}
	}
	last := frontends.Content[len(frontends.Content)-2]

	nl := "\n"
	if bytes.Contains(data, []byte("\r\n")) {
		nl = "\r\n"
	}
	lines := strings.SplitAfter(string(data), "\n")
	end := len(lines)
	if next > 0 {
		end = next - 1
	}
	// After the last line of the last entry: the last line before the next
	// key that holds more than a comment, and the comments right after it
	// indented deeper than the entries, which belong to it.
	at := last.Line
	for i := end - 1; i >= last.Line; i-- {
		if t := strings.TrimSpace(lines[i]); t != "" && !strings.HasPrefix(t, "#") {
			at = i + 1
			break
		}
	}
	for at < end {
		t := strings.TrimLeft(lines[at], " ")
		if !strings.HasPrefix(t, "#") || len(lines[at])-len(t) < last.Column {
			break
		}
		at++
	}
	entry := strings.Repeat(" ", last.Column-1) + name + ":"
	if pad := aligned - last.Column - len(name) - 1; aligned > 0 && pad > 0 {
		entry += strings.Repeat(" ", pad)
	} else {
		entry += " "
	}
	entry += "{ bff: local }" + nl
	if !strings.HasSuffix(lines[at-1], "\n") {
		entry = nl + entry
	}
	out := strings.Join(lines[:at], "") + entry + strings.Join(lines[at:], "")

	var check yaml.Node
	if err := yaml.Unmarshal([]byte(out), &check); err != nil {
		return nil, fmt.Errorf("%s: adding %s would break the file: %w", path, name, err)
	}
	return []byte(out), nil
}
