package brotli

import (
	"bytes"
	"math/bits"
	"path"

	"github.com/collage-dev/collage/build"
	brrr "github.com/molecule-man/go-brrr"
)

// Compressor writes FILE.br at brotli's best level (11): a hundred times
// slower than level 5, but it runs once per build, and the tenth it saves
// is saved on every download. Source maps, which few download, get level 5.
var Compressor = build.Compressor{Encoding: "br", Ext: ".br", Compress: compress}

// mapLevel is the level of source maps: on the demo's largest map (89 KB),
// 2.6 ms and 26.8 KB against 271 ms and 24.0 KB at level 11.
const mapLevel = 5

func compress(name string, data []byte) ([]byte, error) {
	level := brrr.BestCompression
	if path.Ext(name) == ".map" {
		level = mapLevel
	}
	var out bytes.Buffer
	w, err := brrr.NewWriterOptions(&out, level, brrr.WriterOptions{LGWin: window(len(data)), SizeHint: uint(len(data))})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// window is the base-2 logarithm of the sliding window for n bytes: the
// least that holds them, within brotli's 10 and the encoder's default of
// 22. A window larger than the file finds no more matches, and the best
// level's buffers grow with it: 38 MB for a 27 KB module at the default,
// which the shell kept as its heap's baseline, against 10 MB.
func window(n int) int {
	return min(max(bits.Len(uint(n)), 10), 22)
}
