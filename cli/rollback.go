package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) rollback(ctx context.Context, args []string) error {
	fset := m.flags("rollback NAME | collage rollback --all --to TIME", "Makes an earlier version of a frontend active again: --to VERSION, or the one active before.\nWith --all, makes every frontend's active version the one it had at --to TIME: a time\n(RFC 3339, such as 2026-11-30T10:00:00Z) or how long ago (a duration, such as 15m).")
	var api apiFlags
	api.register(fset)
	all := fset.Bool("all", false, "roll every frontend back to how it was at --to TIME")
	to := fset.String("to", "", "the version to roll back to (default: the one active before it); with --all, the time")
	expect := fset.String("expect", "", "the version you believe active; if another is, nothing changes (412)")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if *all {
		return m.rollbackAll(ctx, api, pos, *to, *expect)
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("rollback: want one frontend name, such as cart, or --all; got %d arguments", len(pos))
	}
	name := pos[0]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	var res struct {
		Change registry.Change `json:"change"`
	}
	if err := c.call(ctx, http.MethodPost, "frontends/"+url.PathEscape(name)+"/rollback", move{Version: *to, Expect: *expect}, &res); err != nil {
		return fmt.Errorf("rollback %s: %w", name, err)
	}
	fmt.Fprintln(m.Stdout, changeLine(res.Change))
	return nil
}

// rollbackAll rolls every frontend back to the time to.
func (m *Main) rollbackAll(ctx context.Context, api apiFlags, pos []string, to, expect string) error {
	if len(pos) != 0 {
		return fmt.Errorf("rollback --all: rolls back every frontend, so takes no frontend name; got %q", pos)
	}
	if expect != "" {
		return fmt.Errorf("rollback --all: --expect is for one frontend")
	}
	if to == "" {
		return fmt.Errorf("rollback --all: --to TIME is required: a time (RFC 3339, such as 2026-11-30T10:00:00Z) or how long ago (such as 15m)")
	}
	at, err := parseWhen(to, time.Now())
	if err != nil {
		return fmt.Errorf("rollback --all: %w", err)
	}
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("rollback --all: %w", err)
	}
	var res struct {
		Changes []registry.Change `json:"changes"`
	}
	body := struct {
		To string `json:"to"`
	}{at.UTC().Format(time.RFC3339Nano)}
	if err := c.call(ctx, http.MethodPost, "rollback", body, &res); err != nil {
		return fmt.Errorf("rollback --all --to %s: %w", to, err)
	}
	if len(res.Changes) == 0 {
		fmt.Fprintf(m.Stdout, "nothing changed: every frontend has the version it had at %s\n", at.UTC().Format(time.RFC3339))
	}
	for _, ch := range res.Changes {
		fmt.Fprintln(m.Stdout, changeLine(ch))
	}
	return nil
}

// parseWhen reads --to TIME: a time in RFC 3339, or a duration meaning
// that long before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--to %q: want a time (RFC 3339, such as 2026-11-30T10:00:00Z) or how long ago (a positive duration, such as 15m or 2h)", s)
}
