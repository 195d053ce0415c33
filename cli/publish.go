package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) publish(ctx context.Context, args []string) error {
	fset := m.flags("publish frontends/NAME", "Packs one frontend as `collage pack` does and uploads the archive to the shell as a new\nversion; with --promote, also makes it the active one. Prints the version's label.")
	var o packOptions
	o.flags(fset)
	var api apiFlags
	api.register(fset)
	promote := fset.Bool("promote", false, "make the version active once it is published")
	expect := fset.String("expect", "", "with --promote: the version you believe active; if another is, nothing is promoted (412)")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("publish: want one frontend folder, such as frontends/cart; got %d arguments", len(pos))
	}
	if *expect != "" && !*promote {
		return fmt.Errorf("publish: --expect %s says what --promote replaces; add --promote", *expect)
	}
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	start := time.Now()
	tmp, err := os.MkdirTemp("", "collage-publish-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	o.out = filepath.Join(tmp, "release.tar.gz")
	path, name, err := m.packFrontend(pos[0], o)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}

	q := url.Values{}
	if *promote {
		q.Set("promote", "1")
	}
	if *expect != "" {
		q.Set("expect", *expect)
	}
	var res struct {
		Created bool             `json:"created"`
		Version version          `json:"version"`
		Change  *registry.Change `json:"change"`
	}
	if err := c.upload(ctx, name, path, q, m.Stderr, &res); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	v := res.Version
	news := "new"
	if !res.Created {
		news = "unchanged, the same content was published already"
	}
	fmt.Fprintf(m.Stderr, "published %s %s (%s): digest %s, %d files, %s, took %s\n", name, v.Label, news,
		v.shortDigest(), v.Files, byteSize(v.Bytes), time.Since(start).Round(time.Millisecond))
	if res.Change != nil {
		fmt.Fprintln(m.Stderr, "promoted", changeLine(*res.Change))
	}
	fmt.Fprintln(m.Stdout, v.Label)
	return nil
}

// upload posts the archive at path as a version of frontend, with the
// query q, showing its progress on w, and decodes the answer into out.
func (c *client) upload(ctx context.Context, frontend, path string, q url.Values, w io.Writer, out any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	p := &progress{r: f, w: w, what: "uploading " + frontend, total: fi.Size(), tty: isTerminal(w), tick: progressTick}
	defer p.end()
	target := "frontends/" + url.PathEscape(frontend) + "/versions"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	status, err := c.send(ctx, http.MethodPost, target, "application/gzip", p, fi.Size(), uploadTimeout, out)
	if err == nil && status != http.StatusCreated && status != http.StatusOK {
		return fmt.Errorf("the shell answered %d, not 201 or 200", status)
	}
	return err
}

// shortDigest is the first 12 hex digits of the version's digest.
func (v version) shortDigest() string {
	d := strings.TrimPrefix(v.Digest, "sha256:")
	return d[:min(12, len(d))]
}
