package cli

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
	Percent int    `json:"percent,omitempty"`
}

func (m *Main) promote(ctx context.Context, args []string) error {
	fset := m.flags("promote NAME VERSION", "Makes a published version of a frontend the active one: the next page serves it.\nWith --canary N, serves it to N% of users only, each kept on their side; run it again with\nanother share to change it (everyone in stays in when it grows), without --canary to promote\nit to everyone, or collage rollback NAME to end it.")
	var api apiFlags
	api.register(fset)
	expect := fset.String("expect", "", "the version you believe active; if another is, nothing changes (412)")
	percent := fset.Int("canary", 0, "serve the version to this share of users, 1 to 99, as a canary beside the active version")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fset.Usage()
		return fmt.Errorf("promote: want a frontend and a version, such as cart v2; got %d arguments", len(pos))
	}
	if *percent < 0 || *percent > 99 {
		return fmt.Errorf("promote: --canary %d: give a share of users from 1 to 99 (without --canary, every user)", *percent)
	}
	name, label := pos[0], pos[1]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	var res struct {
		Change registry.Change `json:"change"`
	}
	if err := c.call(ctx, http.MethodPost, "frontends/"+url.PathEscape(name)+"/promote", move{Version: label, Expect: *expect, Percent: *percent}, &res); err != nil {
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
	case registry.KindCanary:
		return fmt.Sprintf("%s: %s for %d%% of users, %s for the rest (revision %d)", c.Frontend, c.Label, c.Percent, c.From, c.Revision)
	case registry.KindCanaryAbort:
		line := fmt.Sprintf("%s: canary of %s ended, %s for every user (revision %d)", c.Frontend, c.Label, c.From, c.Revision)
		if c.Reason != "" {
			line += ": " + c.Reason
		}
		return line
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
