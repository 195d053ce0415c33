package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	f := newFakeShell(t)
	t.Setenv("COLLAGE_TOKEN", adminSecret)
	stdout, stderr, err := collage("token", "create", "--frontend", "cart, recs", "--can", "publish,promote", "--expires", "720h", "--name", "cart ci", "--shell", f.URL)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "collage_secret2\n" {
		t.Errorf("stdout %q, want the token alone", stdout)
	}
	if want := "token cart ci (000000000002) may publish, promote on cart, recs; it expires "; !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "not shown again") {
		t.Errorf("stderr %q, want %s…", stderr, want)
	}
	if req := f.lastRequest(); req.Target != "/_collage/api/tokens" ||
		string(req.Body) != `{"name":"cart ci","frontends":["cart","recs"],"can":["publish","promote"],"expires":"720h"}` {
		t.Errorf("sent %s %s", req.Target, req.Body)
	}
	stdout, stderr, err = collage("token", "create", "--shell", f.URL, "--can=admin", "--frontend=*")
	if err != nil || stdout != "collage_secret3\n" || !strings.Contains(stderr, "token 000000000003 may admin on *; it never expires") {
		t.Errorf("an admin token: %q, %v\n%s", stdout, err, stderr)
	}
	if got := string(f.lastRequest().Body); got != `{"frontends":["*"],"can":["admin"]}` {
		t.Errorf("sent %s", got)
	}

	stdout, _, err = collage("token", "list", "--shell", f.URL)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(stdout, "\n")
	if len(lines) != 6 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME FRONTENDS CAN CREATED BY EXPIRES" ||
		strings.Join(strings.Fields(lines[2]), " ") != "c0c0c0c0c0c0 cart ci cart publish 2026-11-30T09:30Z admin (a0a0a0a0a0a0) 2026-12-30T09:30Z" ||
		!strings.HasSuffix(lines[1], "never") {
		t.Errorf("table:\n%s", stdout)
	}

	stdout, _, err = collage("token", "list", "--json", "--shell", f.URL)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []map[string]any
	if err := json.Unmarshal([]byte(stdout), &tokens); err != nil || len(tokens) != 4 {
		t.Fatalf("--json printed %s: %v", stdout, err)
	}
	for _, tok := range tokens {
		for _, key := range []string{"token", "hash", "secret"} {
			if _, ok := tok[key]; ok {
				t.Errorf("--json prints %q: %v", key, tok)
			}
		}
	}
	if _, ok := tokens[0]["expires_at"]; ok {
		t.Errorf("a token that never expires has expires_at: %v", tokens[0])
	}
	if exp, err := time.Parse(time.RFC3339, tokens[2]["expires_at"].(string)); err != nil || exp.Sub(fakeNow) != 720*time.Hour {
		t.Errorf("expires_at %v", tokens[2]["expires_at"])
	}

	stdout, _, err = collage("token", "revoke", "000000000002", "--shell", f.URL)
	if err != nil || stdout != "revoked token 000000000002\n" {
		t.Errorf("revoke: %q, %v", stdout, err)
	}
	if req := f.lastRequest(); req.Method != "DELETE" || req.Target != "/_collage/api/tokens/000000000002" {
		t.Errorf("sent %s %s", req.Method, req.Target)
	}
	_, _, err = collage("token", "revoke", "000000000002", "--shell", f.URL)
	if err == nil || err.Error() != "token revoke 000000000002: not_found (404): no token 000000000002" {
		t.Errorf("revoke again: %v", err)
	}
	_, _, err = collage("token", "list", "--shell", f.URL, "--token", cartSecret)
	if err == nil || err.Error() != "token list: forbidden (403): token cart ci (c0c0c0c0c0c0) may not admin *" {
		t.Errorf("a token that is not admin: %v", err)
	}
}

func TestTokenRefuses(t *testing.T) {
	f := newFakeShell(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"make"}, `token: unknown command "make": want create, list or revoke`},
		{[]string{"create", "--can", "publish"}, "token create: --frontend is required"},
		{[]string{"create", "--frontend", " , "}, "token create: --frontend is required"},
		{[]string{"create", "--frontend", "cart"}, "token create: --can is required"},
		{[]string{"create", "--frontend", "cart", "--can", "publish", "--expires", "30d"}, `token create: --expires "30d": want a positive duration, such as 720h`},
		{[]string{"create", "cart", "--frontend", "cart", "--can", "publish"}, `token create: takes flags only; got ["cart"]`},
		{[]string{"list", "all"}, `token list: takes flags only; got ["all"]`},
		{[]string{"revoke"}, "token revoke: want one token ID, as token list shows; got 0 arguments"},
	} {
		_, _, err := collage(append([]string{"token"}, append(tc.args, "--shell", f.URL, "--token", adminSecret)...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("token %q: %v, want …%s…", tc.args, err, tc.want)
		}
	}
	if n := f.calls(); n != 0 {
		t.Errorf("%d calls made", n)
	}
	_, stderr, err := collage("token")
	if err != errReported || !strings.HasPrefix(stderr, "Usage:\n  collage token create") {
		t.Errorf("token alone: %v\n%s", err, stderr)
	}
}
