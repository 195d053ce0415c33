// Package build turns frontend folders into content-hashed, immutable
// bundles that the shell serves.
//
// Build reads every frontends/NAME/frontend.json, asks a Bundler (esbuild,
// in adapters/esbuild) for ES modules, and writes for each frontend a version
// folder with its files and a Manifest: entry, CSS, preloads, sizes and
// sha384 integrity. Shared dependencies (preact and friends) are built once
// into their own version folder and resolved by an import map, so a page
// downloads each of them once.
//
// Beside each file worth compressing, Compressors write its compressed
// copies (FILE.gz; FILE.br with adapters/brotli), which the shell sends as
// they are: nothing is compressed while a request waits. The integrity is
// of the file itself, which is what a browser checks once it has decoded
// a copy.
//
// Errors are data: a failed build returns Messages with file, line and
// column, and leaves the previous output untouched.
//
//	res := build.Build(build.Options{Root: ".", Out: "dist", Minify: true,
//		Compressors: []build.Compressor{brotli.Compressor, build.Gzip}}, esbuild.Bundler{})
//	for _, m := range res.Errors {
//		fmt.Fprintln(os.Stderr, m)
//	}
package build
