package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHistory(t *testing.T) {
	f := newFakeShell(t)
	f.seed()
	stdout, _, err := collage("history", "--shell", f.URL, "--token", adminSecret)
	if err != nil {
		t.Fatal(err)
	}
	want := "REVISION  AT                 FRONTEND  KIND     VERSION    BY\n" +
		"1         2026-11-30T10:00Z  cart      publish  v1         cart ci (c0c0c0c0c0c0)\n" +
		"2         2026-11-30T10:01Z  cart      promote  none → v1  admin (a0a0a0a0a0a0)\n" +
		"3         2026-11-30T11:00Z  cart      publish  v2         cart ci (c0c0c0c0c0c0)\n" +
		"4         2026-11-30T11:01Z  cart      promote  v1 → v2    admin (a0a0a0a0a0a0)\n"
	if stdout != want {
		t.Errorf("table:\n%s\nwant\n%s", stdout, want)
	}
	if got := f.lastRequest().Target; got != "/_collage/api/history" {
		t.Errorf("sent %s", got)
	}

	stdout, _, err = collage("history", "cart", "--since", "2", "--json", "--shell", f.URL, "--token", adminSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.lastRequest().Target; got != "/_collage/api/history?frontend=cart&since=2" {
		t.Errorf("sent %s", got)
	}
	var res struct {
		Revision uint64
		Changes  []map[string]any
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Revision != 4 || len(res.Changes) != 2 {
		t.Fatalf("--json printed %s: %v", stdout, err)
	}
	c := res.Changes[1]
	if c["revision"] != 4.0 || c["at"] != "2026-11-30T11:01:00Z" || c["by"] != "admin (a0a0a0a0a0a0)" || c["kind"] != "promote" ||
		c["frontend"] != "cart" || c["label"] != "v2" || c["from"] != "v1" {
		t.Errorf("--json change: %v", c)
	}

	stdout, _, err = collage("history", "recs", "--json", "--shell", f.URL, "--token", adminSecret)
	if err != nil || strings.Join(strings.Fields(stdout), "") != `{"revision":4,"changes":[]}` {
		t.Errorf("no changes: %s, %v", stdout, err)
	}
	if _, _, err := collage("history", "cart", "recs", "--shell", f.URL, "--token", adminSecret); err == nil || !strings.HasPrefix(err.Error(), "history: want at most one frontend name") {
		t.Errorf("two names: %v", err)
	}
	if _, _, err := collage("history", "--since", "-1", "--shell", f.URL, "--token", adminSecret); err == nil {
		t.Error("--since -1 was taken")
	}
}
