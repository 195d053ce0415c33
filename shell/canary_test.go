package shell_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/registry"
)

// buckets are n browsers' buckets, the same in every run.
func buckets(n int) []string {
	out := make([]string, n)
	for i := range out {
		sum := sha256.Sum256([]byte(fmt.Sprint("user ", i)))
		out[i] = hex.EncodeToString(sum[:16])
	}
	return out
}

// TestInCanaryShareAndStickiness draws 10,000 users: with buckets drawn at
// random, the share of any 1,000 of them strays from the asked one by 1.4
// points (one standard deviation) from sampling alone, so the share is
// checked on 10,000 (0.5 point), within one point.
func TestInCanaryShareAndStickiness(t *testing.T) {
	users := buckets(10_000)
	in := map[string]bool{}
	for _, pct := range []int{10, 30, 50, 90} {
		c := registry.Canary{Label: "v2", Percent: pct}
		n := 0
		for _, u := range users {
			got := shell.InCanary(u, "cart", c)
			if in[u] && !got {
				t.Errorf("at %d%%, a user of the canary left it", pct)
			}
			in[u] = got
			if got {
				n++
			}
		}
		if share := float64(n) * 100 / float64(len(users)); share < float64(pct)-1 || share > float64(pct)+1 {
			t.Errorf("at %d%%, %d of %d users are in the canary (%.1f%%)", pct, n, len(users), share)
		}
	}
	// Another frontend's canary, or another version's, draws its own users.
	same := 0
	for _, u := range users[:1000] {
		if shell.InCanary(u, "cart", registry.Canary{Label: "v2", Percent: 50}) == shell.InCanary(u, "recs", registry.Canary{Label: "v2", Percent: 50}) {
			same++
		}
	}
	if same > 600 || same < 400 {
		t.Errorf("%d of 1000 users on the same side of two canaries: they are not drawn apart", same)
	}
}

func TestPagesOfACanary(t *testing.T) {
	h, reg, releases, rels := versioned(t, shell.EdgeConfig{}, nil)
	snap := &registry.Snapshot{Revision: 3, Frontends: map[string]*build.Manifest{"cart": rels["v1"].Manifest},
		Versions: map[string]string{"cart": "v1"}, Served: map[string]map[string]*registry.Release{"cart": rels},
		Canaries: map[string]registry.Canary{"cart": {Label: "v2", Percent: 50}}}
	if err := releases.Install(snap); err != nil {
		t.Fatal(err)
	}
	reg.Set(snap)

	// A first visit gets a bucket.
	x := serveGet(h, "/")
	cookie, err := http.ParseSetCookie(x.out.Get("Set-Cookie"))
	if err != nil || cookie.Name != shell.BucketCookie || !cookie.HttpOnly || len(cookie.Value) != 32 {
		t.Fatalf("first visit: Set-Cookie %q (%v)", x.out.Get("Set-Cookie"), err)
	}
	seen := map[bool]int{}
	for _, u := range buckets(40) {
		x := newExchange("GET", "/")
		x.header.Set("Cookie", "theme=dark; "+shell.BucketCookie+"="+u)
		h.Serve(x, x)
		page := x.body.String()
		canary := shell.InCanary(u, "cart", snap.Canaries["cart"])
		want := map[bool]string{true: "v2", false: "v1"}[canary]
		if !strings.Contains(page, "cart "+want) || !strings.Contains(page, `content="cart=`+want+`"`) ||
			!strings.Contains(page, "/cart/b-"+want+"/cart.js") {
			t.Errorf("bucket %s (canary %v): the page is not all of %s:\n%s", u, canary, want, page)
		}
		if x.out.Get("Set-Cookie") != "" {
			t.Errorf("a browser with a bucket got another: %s", x.out.Get("Set-Cookie"))
		}
		seen[canary]++
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Errorf("40 users at 50%%: %v", seen)
	}
}
