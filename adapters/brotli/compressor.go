package brotli

import (
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
	return brrr.Compress(data, level)
}
