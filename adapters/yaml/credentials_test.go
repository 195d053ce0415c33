package yaml_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/collage-dev/collage/adapters/yaml"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	path := project(t, `routes: { /: home.html }
layouts: shell/layouts
frontends:
  catalog: { bff: local }
  cart: { bff: local, cookies: [collage_cart, "__Host-id"], headers: [Authorization, x-api-key] }
  recs:
    bff: local
    cookies:
      - recs_seen
`, layouts)
	c, err := yaml.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{
		"catalog": {"", ""},
		"cart":    {"collage_cart __Host-id", "Authorization x-api-key"},
		"recs":    {"recs_seen", ""},
	} {
		f := c.Frontends[name]
		if got := [2]string{strings.Join(f.Cookies, " "), strings.Join(f.Headers, " ")}; got != want {
			t.Errorf("frontend %s: cookies, headers = %q, want %q", name, got, want)
		}
	}
}

func TestCredentialErrors(t *testing.T) {
	t.Parallel()
	const head = "layouts: shell/layouts\nroutes: { /: home.html }\nfrontends:\n  catalog:\n    bff: local\n"
	tests := []struct {
		name string
		yaml string
		line int
		msg  string
	}{
		{"cookies not a list", "    cookies: session\n", 6, "frontend catalog: cookies must be a list of names, like [session]"},
		{"headers not a list", "    headers: { Authorization: yes }\n", 6, "frontend catalog: headers must be a list of names, like [Authorization]"},
		{"cookie not a name", "    cookies: [[a]]\n", 6, "frontend catalog: each of cookies must be a name"},
		{"cookie name with a space", "    cookies:\n      - ok\n      - \"my cookie\"\n", 8, `frontend catalog: cookie name "my cookie" is not a token`},
		{"cookie name with a separator", "    cookies: [\"a=b\"]\n", 6, `cookie name "a=b" is not a token`},
		{"empty cookie name", "    cookies: [\"\"]\n", 6, `cookie name "" is not a token`},
		{"duplicate cookie", "    cookies: [a, b, a]\n", 6, "frontend catalog: cookie a is listed twice"},
		{"header not a token", "    headers: [\"X-Api Key\"]\n", 6, `header name "X-Api Key" is not a token`},
		{"header Cookie", "    headers:\n      - cookie\n", 7, "header Cookie cannot be declared: list the cookie names under cookies"},
		{"header always forwarded", "    headers: [Authorization, user-agent]\n", 6, "header User-Agent cannot be declared: every BFF receives it"},
		{"header of every /bff call", "    headers: [Content-Type]\n", 6, "header Content-Type cannot be declared: every /bff call carries it"},
		{"hop-by-hop header", "    headers: [Proxy-Authorization]\n", 6, "header Proxy-Authorization cannot be declared: it is hop-by-hop"},
		{"connection header", "    headers: [connection]\n", 6, "header Connection cannot be declared: it is hop-by-hop"},
		{"header the shell sets", "    headers: [Collage-Path]\n", 6, "header Collage-Path cannot be declared: the shell sets it"},
		{"host header", "    headers: [Host]\n", 6, "header Host cannot be declared: the shell sets it"},
		{"duplicate header", "    headers: [Authorization, authorization]\n", 6, "frontend catalog: header authorization is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := project(t, head+tt.yaml, layouts)
			_, err := yaml.Load(path)
			var ce *yaml.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a *yaml.Error", err)
			}
			if prefix := path + ":" + strconv.Itoa(tt.line) + ": "; !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %q, want prefix %q and %q", err, prefix, tt.msg)
			}
		})
	}
}
