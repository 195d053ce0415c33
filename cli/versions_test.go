package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestVersions(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	if _, _, err := collage("yank", "cart", "v1", "--shell", f.URL, "--token", adminSecret); err != nil {
		t.Fatal(err)
	}
	// Flags after the name.
	stdout, _, err := collage("versions", "cart", "--shell", f.URL, "--token", adminSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := "LABEL  DIGEST        PUBLISHED          BY                      STATE\n" +
		"v1     100000000000  2026-11-30T10:00Z  cart ci (c0c0c0c0c0c0)  yanked\n" +
		"v2     200000000000  2026-11-30T11:00Z  cart ci (c0c0c0c0c0c0)  active\n"
	if stdout != want {
		t.Errorf("table:\n%s\nwant\n%s", stdout, want)
	}

	stdout, _, err = collage("versions", "--json", "cart", "--shell", f.URL, "--token", adminSecret)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 2 {
		t.Fatalf("--json printed %s: %v", stdout, err)
	}
	for _, key := range []string{"label", "digest", "published_at", "published_by", "active", "yanked"} {
		if _, ok := got[0][key]; !ok {
			t.Errorf("--json: no %q in %v", key, got[0])
		}
	}
	if got[0]["label"] != "v1" || got[0]["yanked"] != true || got[0]["active"] != false || got[1]["active"] != true ||
		got[1]["published_at"] != "2026-11-30T11:00:00Z" || got[1]["digest"] != "sha256:2"+strings.Repeat("0", 63) {
		t.Errorf("--json printed %v", got)
	}

	stdout, _, err = collage("versions", "recs", "--json", "--shell", f.URL, "--token", adminSecret)
	if err != nil || stdout != "[]\n" {
		t.Errorf("no versions: %q, %v; want []", stdout, err)
	}
	stdout, _, err = collage("versions", "recs", "--shell", f.URL, "--token", adminSecret)
	if err != nil || !slices.Equal(strings.Fields(stdout), []string{"LABEL", "DIGEST", "PUBLISHED", "BY", "STATE"}) {
		t.Errorf("no versions: %q, %v; want the header", stdout, err)
	}

	for _, args := range [][]string{{}, {"cart", "recs"}} {
		_, _, err := collage(append([]string{"versions", "--shell", f.URL, "--token", adminSecret}, args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), "versions: want one frontend name, such as cart;") {
			t.Errorf("versions %q: %v", args, err)
		}
	}
}
