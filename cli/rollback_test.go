package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRollback(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	stdout, _, err := collage("rollback", "cart", "--expect", "v2", "--shell", f.URL, "--token", adminSecret)
	if err != nil || stdout != "cart: v2 → v1 (revision 5)\n" {
		t.Errorf("rollback: %q, %v", stdout, err)
	}
	if req := f.lastRequest(); req.Target != "/_collage/api/frontends/cart/rollback" || string(req.Body) != `{"expect":"v2"}` {
		t.Errorf("sent %s %s", req.Target, req.Body)
	}
	stdout, _, err = collage("rollback", "--to", "v2", "cart", "--shell", f.URL, "--token", adminSecret)
	if err != nil || stdout != "cart: v1 → v2 (revision 6)\n" || string(f.lastRequest().Body) != `{"version":"v2"}` {
		t.Errorf("rollback --to v2: %q, %v, sent %s", stdout, err, f.lastRequest().Body)
	}
	_, _, err = collage("rollback", "cart", "--expect", "v1", "--shell", f.URL, "--token", adminSecret)
	if want := "rollback cart: precondition_failed (412): cart: expected v1 active, found v2: another change got there first"; err == nil || err.Error() != want {
		t.Errorf("rollback --expect v1: %v\nwant %s", err, want)
	}
	_, _, err = collage("rollback", "cart", "--shell", f.URL, "--token", cartSecret)
	if want := "rollback cart: forbidden (403): token cart ci (c0c0c0c0c0c0) may not promote cart"; err == nil || err.Error() != want {
		t.Errorf("a token that may only publish: %v\nwant %s", err, want)
	}
}

func TestRollbackAll(t *testing.T) {
	f := newFakeShell(t)
	f.seed() // v1 active from 10:01, v2 from 11:01
	stdout, _, err := collage("rollback", "--all", "--to", "2026-11-30T10:30:00Z", "--shell", f.URL, "--token", adminSecret)
	if err != nil || stdout != "cart: v2 → v1 (revision 5)\n" {
		t.Errorf("rollback --all: %q, %v", stdout, err)
	}
	if req := f.lastRequest(); req.Target != "/_collage/api/rollback" || string(req.Body) != `{"to":"2026-11-30T10:30:00Z"}` {
		t.Errorf("sent %s %s", req.Target, req.Body)
	}
	stdout, _, err = collage("rollback", "--shell", f.URL, "--token", adminSecret, "--to", "2026-11-30T12:30:00+01:00", "--all")
	if err != nil || stdout != "nothing changed: every frontend has the version it had at 2026-11-30T11:30:00Z\n" {
		t.Errorf("rollback --all to now's versions: %q, %v", stdout, err)
	}

	before := time.Now()
	if _, _, err := collage("rollback", "--all", "--to", "15m", "--shell", f.URL, "--token", adminSecret); err != nil {
		t.Fatal(err)
	}
	var body struct{ To time.Time }
	if err := json.Unmarshal(f.lastRequest().Body, &body); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if body.To.Before(before.Add(-15*time.Minute)) || body.To.After(after.Add(-15*time.Minute)) || body.To.Location() != time.UTC {
		t.Errorf("--to 15m sent %s, %s before the command began", body.To, before.Sub(body.To))
	}

	_, _, err = collage("rollback", "--all", "--to", "1h", "--shell", f.URL, "--token", cartSecret)
	if want := "rollback --all --to 1h: forbidden (403): token cart ci (c0c0c0c0c0c0) may not promote *"; err == nil || err.Error() != want {
		t.Errorf("a token of one frontend: %v\nwant %s", err, want)
	}
}

func TestRollbackRefuses(t *testing.T) {
	f := newFakeShell(t)
	calls := f.calls()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "rollback: want one frontend name, such as cart, or --all; got 0 arguments"},
		{[]string{"cart", "recs"}, "got 2 arguments"},
		{[]string{"--all"}, "rollback --all: --to TIME is required"},
		{[]string{"--all", "cart", "--to", "1h"}, `rollback --all: rolls back every frontend, so takes no frontend name; got ["cart"]`},
		{[]string{"--all", "--to", "1h", "--expect", "v1"}, "rollback --all: --expect is for one frontend"},
		{[]string{"--all", "--to", "v1"}, `rollback --all: --to "v1": want a time (RFC 3339`},
		{[]string{"--all", "--to", "-5m"}, `--to "-5m"`},
		{[]string{"--all", "--to", "2026-11-30 10:00"}, `--to "2026-11-30 10:00"`},
	} {
		_, _, err := collage(append([]string{"rollback", "--shell", f.URL, "--token", adminSecret}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rollback %q: %v, want …%s…", tc.args, err, tc.want)
		}
	}
	if n := f.calls(); n != calls {
		t.Errorf("%d calls made", n-calls)
	}
}
