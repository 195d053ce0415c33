package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"
)

// A version is one published version of a frontend, as the API lists it.
type version struct {
	Frontend    string    `json:"frontend"`
	Label       string    `json:"label"`
	Digest      string    `json:"digest"`
	BFF         string    `json:"bff"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	Active      bool      `json:"active"`
	Canary      int       `json:"canary,omitempty"` // its share of users in a canary
	Yanked      bool      `json:"yanked"`
	Files       int       `json:"files"`
	Bytes       int64     `json:"bytes"`
}

// minuteUTC is how tables show a time: UTC, to the minute.
const minuteUTC = "2006-01-02T15:04Z"

func (m *Main) versions(ctx context.Context, args []string) error {
	fset := m.flags("versions NAME", "Lists a frontend's published versions, oldest first, with the active and the yanked ones.")
	var api apiFlags
	api.register(fset)
	asJSON := fset.Bool("json", false, "print the versions as a JSON array")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("versions: want one frontend name, such as cart; got %d arguments", len(pos))
	}
	name := pos[0]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("versions: %w", err)
	}
	var res struct {
		Versions []version `json:"versions"`
	}
	if err := c.call(ctx, http.MethodGet, "frontends/"+url.PathEscape(name)+"/versions", nil, &res); err != nil {
		return fmt.Errorf("versions %s: %w", name, err)
	}
	if *asJSON {
		return printJSON(m.Stdout, nonNil(res.Versions))
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tDIGEST\tPUBLISHED\tBY\tSTATE")
	for _, v := range res.Versions {
		state := ""
		switch {
		case v.Active:
			state = "active"
		case v.Canary > 0:
			state = fmt.Sprintf("canary %d%%", v.Canary)
		case v.Yanked:
			state = "yanked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Label, v.shortDigest(), v.PublishedAt.UTC().Format(minuteUTC), v.PublishedBy, state)
	}
	return tw.Flush()
}

// printJSON prints v as indented JSON.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// nonNil is s, or an empty slice for nil: JSON's [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
