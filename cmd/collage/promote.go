package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/collage-dev/collage/shell/registry"
)

// move is the body of a promote or a rollback of one frontend.
type move struct {
	Version string `json:"version,omitempty"`
	Expect  string `json:"expect,omitempty"`
}

func (m *Main) promote(ctx context.Context, args []string) error {
	fset := m.flags("promote NAME VERSION", "Makes a published version of a frontend the active one: the next page serves it.")
	var api apiFlags
	api.register(fset)
	expect := fset.String("expect", "", "the version you believe active; if another is, nothing changes (412)")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fset.Usage()
		return fmt.Errorf("promote: want a frontend and a version, such as cart v2; got %d arguments", len(pos))
	}
	name, label := pos[0], pos[1]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	var res struct {
		Change registry.Change `json:"change"`
	}
	if err := c.call(ctx, http.MethodPost, "frontends/"+url.PathEscape(name)+"/promote", move{Version: label, Expect: *expect}, &res); err != nil {
		return fmt.Errorf("promote %s %s: %w", name, label, err)
	}
	fmt.Fprintln(m.Stdout, changeLine(res.Change))
	return nil
}

// changeLine says what c changed, in one line: "cart: v1 → v2 (revision 7)".
func changeLine(c registry.Change) string {
	switch c.Kind {
	case registry.KindPublish:
		return fmt.Sprintf("%s: %s published (revision %d)", c.Frontend, c.Label, c.Revision)
	case registry.KindYank:
		return fmt.Sprintf("%s: %s yanked (revision %d)", c.Frontend, c.Label, c.Revision)
	}
	if c.From == c.Label {
		return fmt.Sprintf("%s: %s was active already (revision %d)", c.Frontend, c.Label, c.Revision)
	}
	return fmt.Sprintf("%s: %s (revision %d)", c.Frontend, fromTo(c), c.Revision)
}

// fromTo is an activation's move, "v1 → v2", or "none → v1" for the first.
func fromTo(c registry.Change) string {
	from := c.From
	if from == "" {
		from = "none"
	}
	return from + " → " + c.Label
}
