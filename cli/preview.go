package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) preview(ctx context.Context, args []string) error {
	fset := m.flags("preview NAME VERSION", "Prints a link that shows one version of a frontend, promoted or not, on the shell to whoever\nopens it, until it ends; nobody else is served it. The shell makes the link's secret: nobody\ncan choose the code it serves without one.")
	var api apiFlags
	api.register(fset)
	lasts := fset.Duration("for", time.Hour, "how long the link works, at most 168h")
	page := fset.String("path", "/", "the page the link opens")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fset.Usage()
		return fmt.Errorf("preview: want a frontend and a version, such as cart v2; got %d arguments", len(pos))
	}
	if !strings.HasPrefix(*page, "/") || strings.HasPrefix(*page, "//") {
		return fmt.Errorf("preview: --path %q: give a path of the site, such as /products/1", *page)
	}
	name, label := pos[0], pos[1]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	var res struct {
		Change registry.Change `json:"change"`
		Path   string          `json:"path"`
		Until  time.Time       `json:"until"`
	}
	path := "frontends/" + url.PathEscape(name) + "/versions/" + url.PathEscape(label) + "/preview"
	if err := c.call(ctx, http.MethodPost, path, map[string]string{"for": lasts.String()}, &res); err != nil {
		return fmt.Errorf("preview %s %s: %w", name, label, err)
	}
	link, err := url.Parse(res.Path)
	if err != nil {
		return fmt.Errorf("preview %s %s: the shell answered the link %q: %w", name, label, res.Path, err)
	}
	target, err := url.Parse(*page)
	if err != nil {
		return fmt.Errorf("preview: --path %q: %w", *page, err)
	}
	q := target.Query()
	for k, vs := range link.Query() {
		q[k] = vs
	}
	target.RawQuery = q.Encode()
	fmt.Fprintf(m.Stderr, "%s %s: previewed until %s (revision %d)\n", name, label, res.Until.UTC().Format(time.RFC3339), res.Change.Revision)
	fmt.Fprintln(m.Stdout, c.base+target.String())
	return nil
}
