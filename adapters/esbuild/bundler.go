package esbuild

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/component"
	"github.com/evanw/esbuild/pkg/api"
)

// Bundler builds with esbuild. The zero value is ready to use.
type Bundler struct{}

// sharedNamespace holds the virtual entry modules that re-export a shared
// dependency, so each specifier gets a module of its own.
const sharedNamespace = "collage-shared"

func (Bundler) BundleShared(root string, specifiers []string, dir string, minify bool) (map[string]string, []build.Message) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, []build.Message{{Text: err.Error()}}
	}
	entries := make([]api.EntryPoint, len(specifiers))
	for i, spec := range specifiers {
		entries[i] = api.EntryPoint{InputPath: sharedNamespace + ":" + spec, OutputPath: strings.ReplaceAll(spec, "/", "-")}
	}
	opts := baseOptions(absRoot, minify)
	opts.EntryPointsAdvanced = entries
	opts.Plugins = []api.Plugin{{
		Name: "collage-shared",
		Setup: func(pb api.PluginBuild) {
			pb.OnResolve(api.OnResolveOptions{Filter: "^" + sharedNamespace + ":"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, sharedNamespace+":"), Namespace: sharedNamespace}, nil
			})
			pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: sharedNamespace}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				contents := fmt.Sprintf("export * from %q;\n", a.Path)
				return api.OnLoadResult{Contents: &contents, ResolveDir: absRoot, Loader: api.LoaderJS}, nil
			})
		},
	}}
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		return nil, messages(absRoot, res.Errors)
	}
	if err := write(res.OutputFiles, opts.Outdir, dir); err != nil {
		return nil, []build.Message{{Text: err.Error()}}
	}
	meta, _, err := parseMeta(res.Metafile, absRoot, opts.Outdir)
	if err != nil {
		return nil, []build.Message{{Text: err.Error()}}
	}
	imports := map[string]string{}
	for file, out := range meta {
		if spec, ok := strings.CutPrefix(out.EntryPoint, sharedNamespace+":"); ok {
			imports[spec] = file
		}
	}
	return imports, nil
}

func (Bundler) BundleFrontend(root string, f build.Frontend, shared []string, dir string, minify bool) (build.Bundle, []build.Message) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return build.Bundle{}, []build.Message{{Text: err.Error()}}
	}
	opts := frontendOptions(absRoot, f, shared, minify)
	return bundled(api.Build(opts), absRoot, opts, f, shared, dir)
}

// FrontendContext implements build.ContextBundler: an esbuild context,
// whose Rebuild reads again only the files that changed.
func (Bundler) FrontendContext(root string, f build.Frontend, shared []string, minify bool) (build.FrontendContext, []build.Message) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, []build.Message{{Text: err.Error()}}
	}
	opts := frontendOptions(absRoot, f, shared, minify)
	ctx, cerr := api.Context(opts)
	if cerr != nil {
		return nil, messages(absRoot, cerr.Errors)
	}
	return &frontendContext{ctx: ctx, absRoot: absRoot, opts: opts, f: f, shared: shared}, nil
}

// frontendContext is one frontend's esbuild context.
type frontendContext struct {
	ctx     api.BuildContext
	absRoot string
	opts    api.BuildOptions
	f       build.Frontend
	shared  []string
}

func (c *frontendContext) Rebuild(dir string) (build.Bundle, []build.Message) {
	return bundled(c.ctx.Rebuild(), c.absRoot, c.opts, c.f, c.shared, dir)
}

func (c *frontendContext) Dispose() { c.ctx.Dispose() }

// frontendOptions are the options of f's builds.
func frontendOptions(absRoot string, f build.Frontend, shared []string, minify bool) api.BuildOptions {
	opts := baseOptions(absRoot, minify)
	opts.EntryPointsAdvanced = []api.EntryPoint{{InputPath: "./" + entryOf(f), OutputPath: f.Name}}
	opts.External = shared
	return opts
}

// entryOf is f's entry module, relative to the project root.
func entryOf(f build.Frontend) string {
	return filepath.ToSlash(filepath.Join(f.Dir, f.Entry))
}

// bundled writes the output of f's build res into dir and describes it.
func bundled(res api.BuildResult, absRoot string, opts api.BuildOptions, f build.Frontend, shared []string, dir string) (build.Bundle, []build.Message) {
	if len(res.Errors) > 0 {
		return build.Bundle{}, messages(absRoot, res.Errors)
	}
	entry := entryOf(f)
	if err := write(res.OutputFiles, opts.Outdir, dir); err != nil {
		return build.Bundle{}, []build.Message{{Text: err.Error()}}
	}
	meta, inputs, err := parseMeta(res.Metafile, absRoot, opts.Outdir)
	if err != nil {
		return build.Bundle{}, []build.Message{{Text: err.Error()}}
	}
	b := build.Bundle{Inputs: inputs}
	for file, out := range meta {
		if out.EntryPoint == entry {
			b.Entry = file
		}
	}
	if b.Entry == "" {
		return b, []build.Message{{File: entry, Text: "esbuild produced no entry module"}}
	}
	entryOut := meta[b.Entry]
	if entryOut.CSSBundle != "" {
		b.CSS = []string{entryOut.CSSBundle}
	}
	preload, used := map[string]bool{}, map[string]bool{}
	walkImports(meta, b.Entry, preload, used)
	isShared := map[string]bool{}
	for _, s := range shared {
		isShared[s] = true
	}
	var msgs []build.Message
	for spec := range used {
		if !isShared[spec] {
			msgs = append(msgs, build.Message{File: entry, Text: fmt.Sprintf(
				"imports %q, which is left external but is not a shared dependency: add it to the shared list or import a shared one", spec)})
			continue
		}
		b.Shared = append(b.Shared, spec)
	}
	for file := range preload {
		b.Preload = append(b.Preload, file)
	}
	sort.Strings(b.Shared)
	sort.Strings(b.Preload)
	if slices.Contains(entryOut.Exports, component.View) {
		server, serverMsgs := bundleServer(absRoot, f, opts.MinifySyntax, dir)
		b.Server = server
		msgs = append(msgs, serverMsgs...)
	}
	return b, msgs
}

// serverNamespace holds the virtual entry module of a server bundle.
const serverNamespace = "collage-server"

// bundleServer builds f's server bundle into dir: a script, with every
// dependency inside, that defines component.RenderFunc to render the View
// its entry module exports with preact-render-to-string. Stylesheets are
// left out: the client bundle links them.
func bundleServer(absRoot string, f build.Frontend, minify bool, dir string) (string, []build.Message) {
	opts := baseOptions(absRoot, minify)
	opts.Format = api.FormatIIFE
	opts.Splitting = false
	opts.Target = api.ES2020
	opts.EntryNames = "server-[hash]"
	opts.LegalComments = api.LegalCommentsNone
	opts.Loader[".css"] = api.LoaderEmpty
	opts.EntryPointsAdvanced = []api.EntryPoint{{InputPath: serverNamespace + ":" + f.Name, OutputPath: "server"}}
	entry := "./" + entryOf(f)
	opts.Plugins = []api.Plugin{{
		Name: serverNamespace,
		Setup: func(pb api.PluginBuild) {
			pb.OnResolve(api.OnResolveOptions{Filter: "^" + serverNamespace + ":"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: a.Path, Namespace: serverNamespace}, nil
			})
			pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: serverNamespace}, func(api.OnLoadArgs) (api.OnLoadResult, error) {
				contents := fmt.Sprintf(`import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { %s } from %q;
globalThis.%s = function (data) { return renderToString(h(%[1]s, JSON.parse(data))); };
`, component.View, entry, component.RenderFunc)
				return api.OnLoadResult{Contents: &contents, ResolveDir: absRoot, Loader: api.LoaderJS}, nil
			})
		},
	}}
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		msgs := messages(absRoot, res.Errors)
		for i := range msgs {
			msgs[i].Text = "server bundle: " + msgs[i].Text
		}
		return "", msgs
	}
	var server string
	for i, out := range res.OutputFiles {
		rel, err := filepath.Rel(opts.Outdir, out.Path)
		if err != nil {
			return "", []build.Message{{Text: err.Error()}}
		}
		switch {
		case strings.HasSuffix(rel, ".js"):
			server = filepath.ToSlash(rel)
		case strings.HasSuffix(rel, ".js.map"):
			// Name the sources from the project root, as error messages
			// do, whatever folder the bundle is served from.
			c, err := rootSources(out.Contents)
			if err != nil {
				return "", []build.Message{{File: entryOf(f), Text: "server bundle: " + err.Error()}}
			}
			res.OutputFiles[i].Contents = c
		}
	}
	if err := write(res.OutputFiles, opts.Outdir, dir); err != nil {
		return "", []build.Message{{Text: err.Error()}}
	}
	return server, nil
}

// rootSources rewrites the sources of a source map written at virtualOut
// to be relative to the project root.
func rootSources(data []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	sources, _ := m["sources"].([]any)
	for i, s := range sources {
		if p, ok := s.(string); ok && !strings.Contains(p, ":") {
			sources[i] = path.Join(virtualOut, p)
		}
	}
	return json.Marshal(m)
}

// virtualOut is where esbuild is told it writes, relative to the project
// root. Source maps name sources relative to the output folder, so building
// at a fixed place keeps the bytes, and so the version, independent of
// where the files really go (dist, .collage/dev, a staging folder).
const virtualOut = ".collage-out"

// baseOptions are the options of every build. Source maps are written
// beside the code but not linked from it (no sourceMappingURL comment):
// whether they are public is the server's choice, made when it serves
// (collage serve --source-maps sends a SourceMap header), so the bytes and
// the version of a bundle do not depend on it, and a production page does
// not point browsers at maps that answer 404.
func baseOptions(absRoot string, minify bool) api.BuildOptions {
	return api.BuildOptions{
		AbsWorkingDir:     absRoot,
		Bundle:            true,
		Write:             false, // write puts the files in dir
		Metafile:          true,
		Outdir:            filepath.Join(absRoot, virtualOut),
		Format:            api.FormatESModule,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2020,
		Splitting:         true,
		EntryNames:        "[name]-[hash]",
		ChunkNames:        "chunk-[hash]",
		AssetNames:        "[name]-[hash]",
		Sourcemap:         api.SourceMapExternal,
		JSX:               api.JSXAutomatic,
		JSXImportSource:   "preact",
		MinifyWhitespace:  minify,
		MinifyIdentifiers: minify,
		MinifySyntax:      minify,
		LegalComments:     api.LegalCommentsLinked,
		Define:            map[string]string{"process.env.NODE_ENV": map[bool]string{true: `"production"`, false: `"development"`}[minify]},
		Loader: map[string]api.Loader{
			".svg": api.LoaderFile, ".png": api.LoaderFile, ".jpg": api.LoaderFile,
			".webp": api.LoaderFile, ".woff2": api.LoaderFile,
		},
		LogLevel: api.LogLevelSilent,
	}
}

// write puts esbuild's output files, named under outdir, into dir.
func write(files []api.OutputFile, outdir, dir string) error {
	for _, f := range files {
		rel, err := filepath.Rel(outdir, f.Path)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Contents, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// output is the part of esbuild's metafile that the manifest needs.
type output struct {
	EntryPoint string   `json:"entryPoint"`
	Exports    []string `json:"exports"`
	CSSBundle  string   `json:"cssBundle"`
	Imports    []struct {
		Path     string `json:"path"`
		Kind     string `json:"kind"`
		External bool   `json:"external"`
	} `json:"imports"`
}

// parseMeta returns the metafile's outputs keyed by their path relative to
// dir, and its inputs: the files on disk it read, relative to absRoot.
func parseMeta(metafile, absRoot, dir string) (map[string]output, []string, error) {
	var meta struct {
		Inputs  map[string]json.RawMessage `json:"inputs"`
		Outputs map[string]output          `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(metafile), &meta); err != nil {
		return nil, nil, fmt.Errorf("esbuild metafile: %w", err)
	}
	var inputs []string
	for p := range meta.Inputs {
		// Files of a plugin's namespace ("collage-shared:preact") are on
		// no disk.
		if !strings.Contains(p, ":") {
			inputs = append(inputs, p)
		}
	}
	sort.Strings(inputs)
	absDir := dir
	if !filepath.IsAbs(absDir) {
		absDir = filepath.Join(absRoot, dir)
	}
	rel := func(p string) string {
		r, err := filepath.Rel(absDir, filepath.Join(absRoot, p))
		if err != nil {
			return p
		}
		return filepath.ToSlash(r)
	}
	outs := map[string]output{}
	for p, o := range meta.Outputs {
		if o.CSSBundle != "" {
			o.CSSBundle = rel(o.CSSBundle)
		}
		for i := range o.Imports {
			if !o.Imports[i].External {
				o.Imports[i].Path = rel(o.Imports[i].Path)
			}
		}
		outs[rel(p)] = o
	}
	return outs, inputs, nil
}

// walkImports collects the chunks file imports statically, transitively,
// and the external specifiers they use.
func walkImports(meta map[string]output, file string, preload, used map[string]bool) {
	for _, imp := range meta[file].Imports {
		switch {
		case imp.External:
			used[imp.Path] = true
		case imp.Kind == "import-statement" && !preload[imp.Path]:
			preload[imp.Path] = true
			walkImports(meta, imp.Path, preload, used)
		}
	}
}

func messages(absRoot string, in []api.Message) []build.Message {
	out := make([]build.Message, 0, len(in))
	for _, m := range in {
		msg := build.Message{Text: m.Text}
		if m.PluginName != "" {
			msg.Text = "[" + m.PluginName + "] " + m.Text
		}
		if l := m.Location; l != nil {
			file := l.File
			if filepath.IsAbs(file) {
				if r, err := filepath.Rel(absRoot, file); err == nil {
					file = r
				}
			}
			msg.File, msg.Line, msg.Column, msg.Source = filepath.ToSlash(file), l.Line, l.Column+1, l.LineText
		}
		out = append(out, msg)
	}
	return out
}

var _ build.ContextBundler = Bundler{}
