package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/collage-dev/collage/shell/registry"
)

func (m *Main) history(ctx context.Context, args []string) error {
	fset := m.flags("history [NAME]", "Lists the registry's changes, oldest first: publishes, promotes, rollbacks and yanks,\nwith who made them; of every frontend, or of NAME.")
	var api apiFlags
	api.register(fset)
	since := fset.Uint64("since", 0, "only the changes after this revision")
	asJSON := fset.Bool("json", false, `print {"revision": N, "changes": [...]} as JSON`)
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		fset.Usage()
		return fmt.Errorf("history: want at most one frontend name; got %d arguments", len(pos))
	}
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	q := url.Values{}
	if *since > 0 {
		q.Set("since", strconv.FormatUint(*since, 10))
	}
	if len(pos) == 1 {
		q.Set("frontend", pos[0])
	}
	path := "history"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var res struct {
		Revision uint64            `json:"revision"`
		Changes  []registry.Change `json:"changes"`
	}
	if err := c.call(ctx, http.MethodGet, path, nil, &res); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if *asJSON {
		res.Changes = nonNil(res.Changes)
		return printJSON(m.Stdout, res)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tAT\tFRONTEND\tKIND\tVERSION\tBY")
	for _, ch := range res.Changes {
		v := ch.Label
		switch ch.Kind {
		case registry.KindPublish, registry.KindYank:
		case registry.KindCanary:
			v = fmt.Sprintf("%s at %d%%", ch.Label, ch.Percent)
		case registry.KindPreview:
			v = fmt.Sprintf("%s until %s", ch.Label, ch.Until.UTC().Format(minuteUTC))
		default:
			v = fromTo(ch)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", ch.Revision, ch.At.UTC().Format(minuteUTC), ch.Frontend, ch.Kind, v, ch.By)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Why the shell moved by itself: too long for a column.
	for _, ch := range res.Changes {
		if ch.Reason != "" {
			fmt.Fprintf(m.Stdout, "revision %d: %s\n", ch.Revision, ch.Reason)
		}
	}
	return nil
}
