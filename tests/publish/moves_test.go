package publish

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestConcurrentPromotes runs two `collage promote recs V --expect X`
// processes at once, each for another version, a few times: exactly one
// wins, the other exits 1 with precondition_failed (412), and the version
// active is the winner's.
func TestConcurrentPromotes(t *testing.T) {
	s := start(t, t.TempDir())
	for _, label := range []string{"c0", "c1", "c2"} {
		if status, body := s.upload(t, adminToken, "recs", demo.NewRelease(t, label, 1, 64).Archive(t)); status != http.StatusCreated {
			t.Fatalf("publishing %s: %d %s", label, status, body)
		}
	}
	type result struct {
		label  string
		code   int
		stderr string
	}
	for round := range 5 {
		s.must(t, adminToken, "promote", "recs", "c0")
		// Both processes start, then both are waited for: their calls
		// overlap.
		var cmds []*exec.Cmd
		var errs []*bytes.Buffer
		for _, label := range []string{"c1", "c2"} {
			c := demo.Command(t.Context(), s.URL, adminToken, "promote", "recs", label, "--expect", "c0")
			errs = append(errs, &bytes.Buffer{})
			c.Stderr = errs[len(errs)-1]
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, c)
		}
		var results []result
		for i, c := range cmds {
			err := c.Wait()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			results = append(results, result{c.Args[3], c.ProcessState.ExitCode(), errs[i].String()})
		}
		var won []string
		for _, r := range results {
			switch {
			case r.code == 0:
				won = append(won, r.label)
			case r.code != 1 || !strings.Contains(r.stderr, "precondition_failed (412)"):
				t.Errorf("round %d: promote %s: exit status %d, want 0, or 1 with precondition_failed (412)\n%s", round, r.label, r.code, r.stderr)
			}
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d promotes won, want exactly one: %+v", round, len(won), results)
		}
		t.Logf("round %d: %s won", round, won[0])
		if got := s.page(t, "/").versions.Get("recs"); got != won[0] {
			t.Errorf("round %d: %s won, but the page serves recs %s", round, won[0], got)
		}
	}
}

// TestTokenScopes: a token made to publish one frontend publishes it, but
// cannot promote it nor publish another; once revoked, or expired, it is
// refused as unauthorized.
func TestTokenScopes(t *testing.T) {
	s := start(t, t.TempDir())
	token := strings.TrimSpace(s.must(t, adminToken, "token", "create", "--frontend", "recs", "--can", "publish", "--name", "recs ci"))
	if !strings.HasPrefix(token, "collage_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q, want the secret alone", token)
	}
	if got := strings.TrimSpace(s.must(t, token, "publish", "frontends/recs", "--label", "t1")); got != "t1" {
		t.Fatalf("publishing recs with its own token printed %q, want t1", got)
	}
	s.refused(t, token, "forbidden (403)", "promote", "recs", "t1")
	s.refused(t, token, "forbidden (403)", "publish", "frontends/cart", "--label", "t1")
	s.refused(t, token, "forbidden (403)", "rollback", "--all", "--to", "1m")
	if strings.Contains(s.versions(t, "cart"), `"t1"`) || s.page(t, "/").versions.Get("recs") == "t1" {
		t.Error("a refused publish or promote changed the registry")
	}

	s.must(t, adminToken, "token", "revoke", tokenID(token))
	s.refused(t, token, "unauthorized (401)", "publish", "frontends/recs", "--label", "t2")
	s.refused(t, token, "unauthorized (401)", "versions", "recs")

	asked := time.Now()
	short := strings.TrimSpace(s.must(t, adminToken, "token", "create", "--frontend", "recs", "--can", "publish", "--expires", "1s"))
	// The shell made the token between asked and made: it expires at
	// most 1s after made.
	made := time.Now()
	// Valid until it expires, unless a loaded machine took that long.
	if out, errOut, code := s.collage(t, short, "versions", "recs"); code != 0 && time.Since(asked) < time.Second {
		t.Errorf("a token that expires in 1s, used at once: exit status %d\n%s%s", code, out, errOut)
	}
	time.Sleep(time.Until(made.Add(1100 * time.Millisecond)))
	s.refused(t, short, "unauthorized (401)", "versions", "recs")
	s.refused(t, short, "unauthorized (401)", "publish", "frontends/recs", "--label", "t3")
	if v := s.versions(t, "recs"); strings.Contains(v, `"t2"`) || strings.Contains(v, `"t3"`) {
		t.Errorf("a refused token published:\n%s", v)
	}
}
