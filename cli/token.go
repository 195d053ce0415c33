package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const tokenUsage = `Usage:
  collage token create --frontend NAME[,NAME] --can publish,promote [--expires 720h] [--name N]
  collage token list [--json]
  collage token revoke ID

Manages the tokens of the publish API; each needs an admin token.
Run "collage token COMMAND --help" for a command's flags.
`

// An apiToken is a credential of the API as the API lists it: never its
// secret.
type apiToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Frontends []string  `json:"frontends"`
	Can       []string  `json:"can"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (m *Main) token(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, tokenUsage)
		return errReported
	}
	switch args[0] {
	case "create":
		return m.tokenCreate(ctx, args[1:])
	case "list":
		return m.tokenList(ctx, args[1:])
	case "revoke":
		return m.tokenRevoke(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(m.Stderr, tokenUsage)
		return flag.ErrHelp
	}
	return fmt.Errorf("token: unknown command %q: want create, list or revoke", args[0])
}

func (m *Main) tokenCreate(ctx context.Context, args []string) error {
	fset := m.flags("token create", "Makes a token of the publish API and prints only its secret. The shell keeps only its\nhash: the secret is shown this once.")
	var api apiFlags
	api.register(fset)
	frontends := fset.String("frontend", "", `the frontends the token acts on, comma-separated, or "*" for every one (required)`)
	can := fset.String("can", "", "what it may do, comma-separated: publish, promote, admin (required)")
	expires := fset.String("expires", "", "how long it lasts, such as 720h (default: until revoked)")
	name := fset.String("name", "", `what it is for, shown in lists and in the history, such as "cart CI"`)
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fset.Usage()
		return fmt.Errorf("token create: takes flags only; got %q", pos)
	}
	body := struct {
		Name      string   `json:"name,omitempty"`
		Frontends []string `json:"frontends"`
		Can       []string `json:"can"`
		Expires   string   `json:"expires,omitempty"`
	}{*name, splitList(*frontends), splitList(*can), *expires}
	if len(body.Frontends) == 0 {
		return fmt.Errorf(`token create: --frontend is required: the frontends the token acts on, such as cart or cart,recs, or "*"`)
	}
	if len(body.Can) == 0 {
		return fmt.Errorf("token create: --can is required: publish, promote or admin, comma-separated")
	}
	if *expires != "" {
		if d, err := time.ParseDuration(*expires); err != nil || d <= 0 {
			return fmt.Errorf("token create: --expires %q: want a positive duration, such as 720h", *expires)
		}
	}
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	var res struct {
		apiToken
		Secret string `json:"token"`
	}
	if err := c.call(ctx, http.MethodPost, "tokens", body, &res); err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	if res.Secret == "" {
		return fmt.Errorf("token create: the shell at %s answered without a token", c.base)
	}
	ends := "never expires"
	if !res.ExpiresAt.IsZero() {
		ends = "expires " + res.ExpiresAt.UTC().Format(minuteUTC)
	}
	fmt.Fprintf(m.Stderr, "token %s may %s on %s; it %s. Keep it now: it is not shown again.\n",
		describeToken(res.apiToken), strings.Join(res.Can, ", "), strings.Join(res.Frontends, ", "), ends)
	fmt.Fprintln(m.Stdout, res.Secret)
	return nil
}

// describeToken names t as the history does: "cart CI (3f2a9c1b7d4e)", or
// its ID alone.
func describeToken(t apiToken) string {
	if t.Name == "" {
		return t.ID
	}
	return t.Name + " (" + t.ID + ")"
}

func (m *Main) tokenList(ctx context.Context, args []string) error {
	fset := m.flags("token list", "Lists the tokens of the publish API, without their secrets, which the shell does not keep.")
	var api apiFlags
	api.register(fset)
	asJSON := fset.Bool("json", false, "print the tokens as a JSON array")
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fset.Usage()
		return fmt.Errorf("token list: takes flags only; got %q", pos)
	}
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	var res struct {
		Tokens []apiToken `json:"tokens"`
	}
	if err := c.call(ctx, http.MethodGet, "tokens", nil, &res); err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	if *asJSON {
		return printJSON(m.Stdout, nonNil(res.Tokens))
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tFRONTENDS\tCAN\tCREATED\tBY\tEXPIRES")
	for _, t := range res.Tokens {
		expires := "never"
		if !t.ExpiresAt.IsZero() {
			expires = t.ExpiresAt.UTC().Format(minuteUTC)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Frontends, ","), strings.Join(t.Can, ","),
			t.CreatedAt.UTC().Format(minuteUTC), t.CreatedBy, expires)
	}
	return tw.Flush()
}

func (m *Main) tokenRevoke(ctx context.Context, args []string) error {
	fset := m.flags("token revoke ID", "Revokes a token of the publish API: the shell refuses it from the next call on.")
	var api apiFlags
	api.register(fset)
	pos, err := parseAnywhere(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return fmt.Errorf("token revoke: want one token ID, as token list shows; got %d arguments", len(pos))
	}
	id := pos[0]
	c, err := api.client()
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	var res struct {
		Revoked string `json:"revoked"`
	}
	if err := c.call(ctx, http.MethodDelete, "tokens/"+url.PathEscape(id), nil, &res); err != nil {
		return fmt.Errorf("token revoke %s: %w", id, err)
	}
	fmt.Fprintf(m.Stdout, "revoked token %s\n", res.Revoked)
	return nil
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
