package quickjs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build/lambda"
)

// WithServerBundle returns a factory that makes the BFF with f and, when
// dir holds a server bundle where collage build puts it in a BFF's Lambda
// zip (lambda.ServerFile, and its source map), gives the BFF a Pool of it
// as its Renderer: the BFF then renders its own component wherever it
// runs. Without one, the BFF is f's, whose Component fragments answer
// their data for the shell to render.
func WithServerBundle(f bff.Factory, dir string) bff.Factory {
	return func(s bff.Settings) (*bff.BFF, error) {
		b, err := f(s)
		if err != nil {
			return nil, err
		}
		src, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(lambda.ServerFile)))
		if errors.Is(err, fs.ErrNotExist) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		smap, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(lambda.ServerMapFile)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		p, err := New(Config{Frontend: b.Name(), Source: src, SourceMap: smap, Log: b.Log})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", lambda.ServerFile, err)
		}
		b.Renderer = p
		return b, nil
	}
}

// ExecutableDir is the folder of the running program: inside Lambda, the
// folder the BFF's zip was unpacked into.
func ExecutableDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	return filepath.Dir(exe)
}
