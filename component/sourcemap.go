package component

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SourceMap maps positions of a generated file back to its sources: a
// version 3 source map, as esbuild writes it.
type SourceMap struct {
	sources []string
	lines   [][]segment // by generated line, each sorted by column
}

// segment maps one generated column to a position in a source. Lines and
// columns are 0-based, as in the map.
type segment struct {
	col, src, line, srcCol int
}

// ParseSourceMap reads a version 3 source map.
func ParseSourceMap(data []byte) (*SourceMap, error) {
	var raw struct {
		Version    int      `json:"version"`
		Sources    []string `json:"sources"`
		SourceRoot string   `json:"sourceRoot"`
		Mappings   string   `json:"mappings"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("source map: %w", err)
	}
	if raw.Version != 3 {
		return nil, fmt.Errorf("source map: version %d, want 3", raw.Version)
	}
	m := &SourceMap{sources: raw.Sources}
	for i, s := range m.sources {
		m.sources[i] = raw.SourceRoot + s
	}
	var src, line, srcCol int
	for n, text := range strings.Split(raw.Mappings, ";") {
		var segs []segment
		col := 0
		for _, field := range strings.Split(text, ",") {
			if field == "" {
				continue
			}
			v, err := vlq(field)
			if err != nil {
				return nil, fmt.Errorf("source map: line %d: %w", n+1, err)
			}
			col += v[0]
			if len(v) < 4 {
				continue // a column that maps to no source
			}
			src, line, srcCol = src+v[1], line+v[2], srcCol+v[3]
			if src < 0 || src >= len(m.sources) {
				return nil, fmt.Errorf("source map: line %d: source %d of %d", n+1, src, len(m.sources))
			}
			segs = append(segs, segment{col, src, line, srcCol})
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].col < segs[j].col })
		m.lines = append(m.lines, segs)
	}
	return m, nil
}

const base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// vlq decodes the base64 VLQ numbers of one segment.
func vlq(s string) ([]int, error) {
	var out []int
	v, shift := 0, 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base64Digits, s[i])
		if d < 0 {
			return nil, fmt.Errorf("%q is not base64", s[i])
		}
		v += (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		n := v >> 1
		if v&1 != 0 {
			n = -n
		}
		out = append(out, n)
		v, shift = 0, 0
	}
	if shift != 0 {
		return nil, fmt.Errorf("%q ends inside a number", s)
	}
	return out, nil
}

// Position returns the source, line and column (1-based) of the generated
// line and column (1-based), and false where the map knows none.
func (m *SourceMap) Position(line, col int) (file string, srcLine, srcCol int, ok bool) {
	if m == nil || line < 1 || line > len(m.lines) {
		return "", 0, 0, false
	}
	segs := m.lines[line-1]
	i := sort.Search(len(segs), func(i int) bool { return segs[i].col > col-1 }) - 1
	if i < 0 {
		return "", 0, 0, false
	}
	s := segs[i]
	return m.sources[s.src], s.line + 1, s.srcCol + 1, true
}

// frameRE matches the location at the end of a stack frame:
// "    at View (server.js:1:234)" or "    at server.js:1:234".
var frameRE = regexp.MustCompile(`([^\s()]+):(\d+):(\d+)(\)?)$`)

// Stack rewrites each frame of stack that names a position of the
// generated file to name the source's: frames the map knows nothing of
// stay as they are.
func (m *SourceMap) Stack(stack string) string {
	if m == nil {
		return stack
	}
	lines := strings.Split(stack, "\n")
	for i, l := range lines {
		sub := frameRE.FindStringSubmatchIndex(l)
		if sub == nil {
			continue
		}
		line, _ := strconv.Atoi(l[sub[4]:sub[5]])
		col, _ := strconv.Atoi(l[sub[6]:sub[7]])
		file, sl, sc, ok := m.Position(line, col)
		if !ok {
			continue
		}
		lines[i] = l[:sub[2]] + file + ":" + strconv.Itoa(sl) + ":" + strconv.Itoa(sc) + l[sub[8]:sub[9]]
	}
	return strings.Join(lines, "\n")
}

// Origin returns the first position of stack in the frontend's own code:
// the first frame whose file is not in node_modules nor a virtual module
// of the build. Empty when there is none.
func Origin(stack string) (file string, line, col int) {
	for _, l := range strings.Split(stack, "\n") {
		m := frameRE.FindStringSubmatch(l)
		if m == nil || strings.Contains(m[1], "node_modules/") || strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "<") {
			continue
		}
		line, _ = strconv.Atoi(m[2])
		col, _ = strconv.Atoi(m[3])
		return m[1], line, col
	}
	return "", 0, 0
}
