package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) yank(ctx context.Context, args []string) error {
	fset := m.flags("yank NAME VERSION", "Marks a version of a frontend never to be served again; the registry keeps it for audit.\nThe active version cannot be yanked: promote or roll back to another first.")
	var api apiFlags
	api.register(fset)
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fset.Usage()
		return fmt.Errorf("yank: want a frontend and a version, such as cart v2; got %d arguments", len(pos))
	}
	name, label := pos[0], pos[1]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("yank: %w", err)
	}
	var res struct {
		Change registry.Change `json:"change"`
	}
	path := "frontends/" + url.PathEscape(name) + "/versions/" + url.PathEscape(label) + "/yank"
	if err := c.call(ctx, http.MethodPost, path, nil, &res); err != nil {
		return fmt.Errorf("yank %s %s: %w", name, label, err)
	}
	fmt.Fprintln(m.Stdout, changeLine(res.Change))
	return nil
}
