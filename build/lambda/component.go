package lambda

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
)

// Where a BFF's zip holds the server bundle of its frontend, beside the
// bootstrap, so that the BFF renders its own component inside Lambda
// (adapters/quickjs.WithServerBundle reads them).
const (
	ServerFile    = "component/server.js"
	ServerMapFile = "component/server.js.map"
)

// AddServerBundle puts the server bundle at server, and its source map at
// serverMap when there is one (""), into the BFF zip of fn, and returns
// fn with the zip's new size.
func AddServerBundle(fn Function, server, serverMap string) (Function, error) {
	fail := func(err error) (Function, error) { return fn, &Error{Code: "io", BFF: fn.Name, Msg: err.Error()} }
	old, err := zip.OpenReader(fn.Zip)
	if err != nil {
		return fail(err)
	}
	defer old.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range old.File {
		if f.Name == ServerFile || f.Name == ServerMapFile {
			continue // packaged again
		}
		r, err := f.Open()
		if err != nil {
			return fail(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return fail(err)
		}
		if err := addFile(zw, f.Name, f.Mode(), data); err != nil {
			return fail(err)
		}
	}
	for _, f := range [][2]string{{ServerFile, server}, {ServerMapFile, serverMap}} {
		name, path := f[0], f[1]
		if path == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fail(err)
		}
		if err := addFile(zw, name, 0o644, data); err != nil {
			return fail(err)
		}
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(fn.Zip, buf.Bytes(), 0o644); err != nil {
		return fail(err)
	}
	fn.ZipBytes = int64(buf.Len())
	return fn, nil
}
