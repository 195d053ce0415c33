// Package brotli compresses build output with brotli (github.com/molecule-man/go-brrr),
// the encoding browsers take first: a build that lists Compressor writes
// FILE.br beside each compressible file, and the shell sends it with
// Content-Encoding: br.
//
//	build.Build(build.Options{Compressors: []build.Compressor{brotli.Compressor, build.Gzip}}, esbuild.Bundler{})
package brotli
