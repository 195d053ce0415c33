// Package registrytest is the conformance suite of registry.Store: every
// store runs it, so the embedded store and a replicated one keep the same
// rules.
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/build"
	"github.com/collage-dev/collage/shell/registry"
)

// Open returns a new, empty store, closed when t ends.
type Open func(t *testing.T) registry.Store

// Replicas returns two handles on one new, empty state, as two replicas
// (two processes) open it, closed when t ends.
type Replicas func(t *testing.T) (registry.Store, registry.Store)

// Run runs the whole suite against the stores open makes, and its tests
// of replicas against the pairs replicas makes. replicas is nil for a
// store one process holds alone: its replicas are then one store twice.
func Run(t *testing.T, open Open, replicas Replicas) {
	if replicas == nil {
		replicas = func(t *testing.T) (registry.Store, registry.Store) {
			st := open(t)
			return st, st
		}
	}
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"Publish", func(t *testing.T) { TestPublish(t, open) }},
		{"PublishBundle", func(t *testing.T) { TestPublishBundle(t, open) }},
		{"PublishShared", func(t *testing.T) { TestPublishShared(t, open) }},
		{"Promote", func(t *testing.T) { TestPromote(t, open) }},
		{"Canary", func(t *testing.T) { TestCanary(t, open) }},
		{"CanaryShared", func(t *testing.T) { TestCanaryShared(t, open) }},
		{"Preview", func(t *testing.T) { TestPreview(t, open) }},
		{"Rollback", func(t *testing.T) { TestRollback(t, open) }},
		{"RollbackAll", func(t *testing.T) { TestRollbackAll(t, open) }},
		{"Yank", func(t *testing.T) { TestYank(t, open) }},
		{"LoadAndHistory", func(t *testing.T) { TestLoadAndHistory(t, open) }},
		{"Revision", func(t *testing.T) { TestRevision(t, open) }},
		{"Isolation", func(t *testing.T) { TestIsolation(t, open) }},
		{"Tokens", func(t *testing.T) { TestTokens(t, open) }},
		{"Replicas", func(t *testing.T) { TestReplicas(t, replicas) }},
		{"ConcurrentPromotes", func(t *testing.T) { TestConcurrentPromotes(t, replicas) }},
		{"ConcurrentPublishes", func(t *testing.T) { TestConcurrentPublishes(t, replicas) }},
		{"Watch", func(t *testing.T) { TestWatch(t, replicas) }},
	} {
		t.Run(tc.name, tc.test)
	}
}

// Bundle returns a frontend's manifest and files: n files of size bytes
// each, whose content seed makes distinct.
func Bundle(frontend, seed string, n, size int) (*build.Manifest, fstest.MapFS) {
	m := &build.Manifest{Name: frontend, Version: seed, Entry: "f0.js", Files: map[string]build.File{}}
	files := fstest.MapFS{}
	for i := range n {
		data := make([]byte, size)
		head := fmt.Sprintf("// %s %s %d\n", frontend, seed, i)
		for j := range data {
			data[j] = head[j%len(head)]
		}
		name := fmt.Sprintf("f%d.js", i)
		files[name] = &fstest.MapFile{Data: data}
		m.Files[name] = build.File{Size: int64(size), Integrity: build.Integrity(data)}
	}
	return m, files
}

// Code returns the code of err when it is a *bff.Error, else "".
func Code(err error) string {
	var e *bff.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func wantCode(t *testing.T, err error, code, doing string) {
	t.Helper()
	if got := Code(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", doing, err, got, code)
	}
}

// release is a release of frontend with the BFF target bff, so two
// releases differ when their targets do.
func release(frontend, label, target string) *registry.Release {
	return &registry.Release{Frontend: frontend, Label: label, BFF: target, PublishedBy: "ci"}
}

func publish(t *testing.T, st registry.Store, r *registry.Release) *registry.Release {
	t.Helper()
	out, _, err := st.Publish(context.Background(), r)
	if err != nil {
		t.Fatalf("publish %s %s: %v", r.Frontend, r.Label, err)
	}
	return out
}

func promote(t *testing.T, st registry.Store, frontend, label string) registry.Change {
	t.Helper()
	c, err := st.Promote(context.Background(), registry.Move{Frontend: frontend, Label: label, By: "ci"})
	if err != nil {
		t.Fatalf("promote %s %s: %v", frontend, label, err)
	}
	return c
}

// revision returns the store's revision, which Revision and Load must
// agree on.
func revision(t *testing.T, st registry.Store) uint64 {
	t.Helper()
	rev, err := st.Revision(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision != rev {
		t.Fatalf("Revision says %d, Load says %d", rev, s.Revision)
	}
	return rev
}

func active(t *testing.T, st registry.Store, frontend string) string {
	t.Helper()
	f, _, err := st.List(context.Background(), frontend)
	if err != nil {
		t.Fatal(err)
	}
	return f.Active
}

// TestPublish checks that a publish is idempotent for the same content and
// a conflict for the same label with other content.
func TestPublish(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	m, _ := Bundle("header", "a", 1, 10)
	bad := *m
	bad.Name = "footer"
	for _, tc := range []struct {
		name    string
		r       *registry.Release
		code    string // "" for success
		created bool
		label   string // the label stored, when it succeeds
	}{
		{"new, labelled by its digest", release("header", "", "local"), "", true, ""},
		{"same content again", release("header", "", "local"), "", false, ""},
		{"same content under a team label", release("header", "v1", "local"), "", true, "v1"},
		{"same label, same content", release("header", "v1", "local"), "", false, "v1"},
		{"same label, other content", release("header", "v1", "http://127.0.0.1:9001/v2"), "conflict", false, ""},
		{"a second version", release("header", "v2", "http://127.0.0.1:9001/v2"), "", true, "v2"},
		{"an invalid frontend name", release("Header", "", "local"), bff.CodeBadRequest, false, ""},
		{"an invalid label", release("header", "../x", "local"), bff.CodeBadRequest, false, ""},
		{"no BFF target", release("header", "v3", ""), bff.CodeBadRequest, false, ""},
		{"a moving Lambda target", release("header", "v3", "lambda://arn:aws:lambda:eu-west-1:1:function:h:$LATEST"), bff.CodeBadRequest, false, ""},
		{"a manifest of another frontend", &registry.Release{Frontend: "header", Label: "v3", BFF: "local", Manifest: &bad}, bff.CodeBadRequest, false, ""},
		{"a manifest file without its blob", &registry.Release{Frontend: "header", Label: "v3", BFF: "local", Manifest: m}, bff.CodeBadRequest, false, ""},
	} {
		before := revision(t, st)
		got, created, err := st.Publish(ctx, tc.r)
		if tc.code != "" {
			wantCode(t, err, tc.code, tc.name)
			if after := revision(t, st); after != before {
				t.Errorf("%s: revision %d → %d after a refusal", tc.name, before, after)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if created != tc.created {
			t.Errorf("%s: created = %v, want %v", tc.name, created, tc.created)
		}
		if want := tc.label; want == "" && len(got.Label) != 12 || want != "" && got.Label != want {
			t.Errorf("%s: label %q, want %q (12 digits of the digest when empty)", tc.name, got.Label, want)
		}
		if after, want := revision(t, st), before+map[bool]uint64{true: 1}[created]; after != want {
			t.Errorf("%s: revision %d → %d, want %d", tc.name, before, after, want)
		}
		if got.PublishedAt.IsZero() || got.Digest == "" || got.PublishedBy != "ci" {
			t.Errorf("%s: stored %+v, want a digest, a time and who published it", tc.name, got)
		}
	}
	f, rs, err := st.List(ctx, "header")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || len(f.Versions) != 3 || f.Versions[1] != "v1" || f.Versions[2] != "v2" || f.Active != "" {
		t.Errorf("list: %+v, %d releases; want 3 versions in publish order, none active", f, len(rs))
	}
	_, _, err = st.List(ctx, "nobody")
	wantCode(t, err, bff.CodeNotFound, "list of an unknown frontend")
}

// TestPublishBundle checks that a release becomes visible only with every
// blob of its manifest stored and verified.
func TestPublishBundle(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	blobs, err := registry.NewDiskBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, files := Bundle("cart", "a", 3, 1000)
	tampered := fstest.MapFS{}
	for name, f := range files {
		tampered[name] = f
	}
	tampered["f1.js"] = &fstest.MapFile{Data: []byte("alert(1)")}
	missing := fstest.MapFS{"f0.js": files["f0.js"]}
	for _, tc := range []struct {
		name  string
		files fs.FS
		code  string
	}{
		{"a file that is not what the manifest says", tampered, bff.CodeBadRequest},
		{"a file the bundle lacks", missing, bff.CodeBadRequest},
		{"the whole bundle", files, ""},
	} {
		r := &registry.Release{Frontend: "cart", Label: "v1", BFF: "local", Manifest: m}
		got, _, err := registry.Publish(ctx, st, blobs, r, tc.files)
		if tc.code != "" {
			wantCode(t, err, tc.code, tc.name)
			if _, _, err := st.List(ctx, "cart"); Code(err) != bff.CodeNotFound {
				t.Fatalf("%s: the release is visible after a refusal (list: %v)", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for name, f := range files {
			rc, err := blobs.Open(ctx, got.Blobs[name])
			if err != nil {
				t.Fatalf("%s: %s: %v", tc.name, name, err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(data) != string(f.Data) {
				t.Errorf("%s: blob of %s holds %d bytes (%v), want its %d", tc.name, name, len(data), err, len(f.Data))
			}
		}
	}
	if _, err := blobs.Open(ctx, "00"); Code(err) != bff.CodeBadRequest {
		t.Errorf("open of a malformed key: %v, want bad_request", err)
	}
	if _, err := blobs.Open(ctx, fmt.Sprintf("%064d", 0)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of an absent blob: %v, want fs.ErrNotExist", err)
	}
}

// TestPromote checks promote's refusals and its compare-and-set.
func TestPromote(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	publish(t, st, release("recs", "v1", "local"))
	publish(t, st, release("recs", "v2", "http://127.0.0.1:9001/v2"))
	publish(t, st, release("recs", "v3", "http://127.0.0.1:9001/v3"))
	if _, err := st.Yank(ctx, "recs", "v3", "ci"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		m      registry.Move
		code   string
		active string // after the move
		moves  bool   // whether the revision moves
	}{
		{"an unknown frontend", registry.Move{Frontend: "nobody", Label: "v1"}, bff.CodeNotFound, "", false},
		{"an unknown version", registry.Move{Frontend: "recs", Label: "v9"}, bff.CodeNotFound, "", false},
		{"no version", registry.Move{Frontend: "recs"}, bff.CodeBadRequest, "", false},
		{"expecting an active version when none is", registry.Move{Frontend: "recs", Label: "v1", Expect: "v2"}, "precondition_failed", "", false},
		{"the first", registry.Move{Frontend: "recs", Label: "v1"}, "", "v1", true},
		{"the same again", registry.Move{Frontend: "recs", Label: "v1"}, "", "v1", false},
		{"expecting the active one", registry.Move{Frontend: "recs", Label: "v2", Expect: "v1"}, "", "v2", true},
		{"expecting an old one", registry.Move{Frontend: "recs", Label: "v1", Expect: "v1"}, "precondition_failed", "v2", false},
		{"a yanked version", registry.Move{Frontend: "recs", Label: "v3"}, "conflict", "v2", false},
	} {
		before := revision(t, st)
		c, err := st.Promote(ctx, tc.m)
		if tc.code != "" {
			wantCode(t, err, tc.code, tc.name)
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		} else if c.Label != tc.m.Label || c.Kind != registry.KindPromote {
			t.Errorf("%s: change %+v", tc.name, c)
		}
		if after := revision(t, st); (after == before+1) != tc.moves || after > before+1 {
			t.Errorf("%s: revision %d → %d, want it to move: %v", tc.name, before, after, tc.moves)
		}
		if tc.active != "" {
			if got := active(t, st, "recs"); got != tc.active {
				t.Errorf("%s: active %s, want %s", tc.name, got, tc.active)
			}
		}
	}
}

// TestConcurrentPromotes checks that of two promotes expecting the same
// active version, one through each replica, exactly one wins and the
// other is told so.
func TestConcurrentPromotes(t *testing.T, replicas Replicas) {
	st, other := replicas(t)
	sides := []registry.Store{st, other}
	ctx := context.Background()
	for _, l := range []string{"v1", "v2", "v3"} {
		publish(t, st, release("catalog", l, "http://127.0.0.1:9001/"+l))
	}
	for round := range 20 {
		from := []string{"v1", "v2", "v3"}[round%3]
		promote(t, st, "catalog", from)
		var others []string
		for _, l := range []string{"v1", "v2", "v3"} {
			if l != from {
				others = append(others, l)
			}
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, l := range others {
			wg.Go(func() {
				<-start
				_, errs[i] = sides[i].Promote(ctx, registry.Move{Frontend: "catalog", Label: l, Expect: from, By: l})
			})
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won == -1:
				won = i
			case err == nil:
				t.Fatalf("round %d: both promotes from %s won", round, from)
			default:
				wantCode(t, err, "precondition_failed", fmt.Sprintf("round %d: the losing promote", round))
			}
		}
		if won == -1 {
			t.Fatalf("round %d: neither promote won: %v", round, errs)
		}
		if got := active(t, st, "catalog"); got != others[won] {
			t.Fatalf("round %d: active %s, want the winner %s", round, got, others[won])
		}
	}
}

// TestRollback checks the rollback of one frontend, to the previous version
// or to a named one.
func TestRollback(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	_, err := st.Rollback(ctx, registry.Move{Frontend: "header"})
	wantCode(t, err, bff.CodeNotFound, "rollback of an unknown frontend")
	for _, l := range []string{"v1", "v2", "v3", "v4"} {
		publish(t, st, release("header", l, "http://127.0.0.1:9001/"+l))
	}
	promote(t, st, "header", "v1")
	_, err = st.Rollback(ctx, registry.Move{Frontend: "header"})
	wantCode(t, err, "conflict", "rollback with no earlier version")
	promote(t, st, "header", "v2")
	promote(t, st, "header", "v3")
	promote(t, st, "header", "v4")
	if _, err := st.Yank(ctx, "header", "v3", "ci"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		m      registry.Move
		code   string
		active string
	}{
		{"expecting another active version", registry.Move{Frontend: "header", Expect: "v3"}, "precondition_failed", "v4"},
		{"to the previous, past a yanked one", registry.Move{Frontend: "header", Expect: "v4"}, "", "v2"},
		{"again: v4 was active before v2", registry.Move{Frontend: "header"}, "", "v4"},
		{"to a named version", registry.Move{Frontend: "header", Label: "v1", Expect: "v4"}, "", "v1"},
		{"to a yanked version", registry.Move{Frontend: "header", Label: "v3"}, "conflict", "v1"},
	} {
		c, err := st.Rollback(ctx, tc.m)
		if tc.code != "" {
			wantCode(t, err, tc.code, tc.name)
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		} else if c.Kind != registry.KindRollback || c.Label != tc.active {
			t.Errorf("%s: change %+v", tc.name, c)
		}
		if got := active(t, st, "header"); got != tc.active {
			t.Errorf("%s: active %s, want %s", tc.name, got, tc.active)
		}
	}
}

// TestRollbackAll checks that every frontend returns to the version active
// at a point in time, in one revision.
func TestRollbackAll(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	for _, f := range []string{"header", "cart", "recs"} {
		publish(t, st, release(f, "v1", "http://127.0.0.1:9001/v1"))
		publish(t, st, release(f, "v2", "http://127.0.0.1:9001/v2"))
	}
	promote(t, st, "header", "v1")
	promote(t, st, "cart", "v2")
	time.Sleep(5 * time.Millisecond) // the changes above are before the mark, those below after
	mark := time.Now()
	time.Sleep(5 * time.Millisecond)
	promote(t, st, "header", "v2")
	promote(t, st, "cart", "v1")
	promote(t, st, "recs", "v1") // had no active version at the mark: keeps v1
	before := revision(t, st)
	cs, err := st.RollbackAll(ctx, mark, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("rollback-all changed %+v, want header and cart", cs)
	}
	for _, c := range cs {
		if c.Revision != before+1 || c.Kind != registry.KindRollbackAll || c.By != "ops" {
			t.Errorf("change %+v, want one of revision %d by ops", c, before+1)
		}
	}
	for f, want := range map[string]string{"header": "v1", "cart": "v2", "recs": "v1"} {
		if got := active(t, st, f); got != want {
			t.Errorf("%s: active %s after rollback-all, want %s", f, got, want)
		}
	}
	if after := revision(t, st); after != before+1 {
		t.Errorf("revision %d → %d, want one step", before, after)
	}
	if cs, err := st.RollbackAll(ctx, mark, "ops"); err != nil || len(cs) != 0 {
		t.Errorf("rollback-all again: %+v, %v; want nothing to do", cs, err)
	}
	promote(t, st, "header", "v2")
	if _, err := st.Yank(ctx, "header", "v1", "ci"); err != nil {
		t.Fatal(err)
	}
	before = revision(t, st)
	_, err = st.RollbackAll(ctx, mark, "ops")
	wantCode(t, err, "conflict", "rollback-all to a yanked version")
	if after := revision(t, st); after != before || active(t, st, "cart") != "v2" {
		t.Errorf("a refused rollback-all changed something (revision %d → %d)", before, after)
	}
}

// TestYank checks that a version can be yanked unless it is active.
func TestYank(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	publish(t, st, release("cart", "v1", "local"))
	publish(t, st, release("cart", "v2", "http://127.0.0.1:9001/v2"))
	promote(t, st, "cart", "v1")
	for _, tc := range []struct {
		name, frontend, label, code string
		moves                       bool
	}{
		{"the active version", "cart", "v1", "conflict", false},
		{"an unknown version", "cart", "v9", bff.CodeNotFound, false},
		{"an unknown frontend", "nobody", "v1", bff.CodeNotFound, false},
		{"another version", "cart", "v2", "", true},
		{"the same again", "cart", "v2", "", false},
	} {
		before := revision(t, st)
		_, err := st.Yank(ctx, tc.frontend, tc.label, "ci")
		if tc.code != "" {
			wantCode(t, err, tc.code, tc.name)
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if after := revision(t, st); (after == before+1) != tc.moves || after > before+1 {
			t.Errorf("%s: revision %d → %d, want it to move: %v", tc.name, before, after, tc.moves)
		}
	}
	_, rs, err := st.List(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Yanked || !rs[1].Yanked {
		t.Errorf("yanked: v1 %v, v2 %v; want only v2", rs[0].Yanked, rs[1].Yanked)
	}
}

// TestLoadAndHistory checks that Load returns the state at its revision and
// that the history holds every change once, in order.
func TestLoadAndHistory(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	if s, err := st.Load(ctx); err != nil || s.Revision != 0 || len(s.Frontends) != 0 {
		t.Fatalf("empty store: %+v, %v", s, err)
	}
	publish(t, st, release("header", "v1", "local"))
	publish(t, st, release("recs", "v1", "local"))
	publish(t, st, release("recs", "v2", "http://127.0.0.1:9001/v2"))
	promote(t, st, "recs", "v2")
	if _, err := st.Yank(ctx, "recs", "v1", "ci"); err != nil {
		t.Fatal(err)
	}
	s, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision != 5 || s.Frontends["recs"].Active != "v2" || len(s.Releases["recs"]) != 2 || !s.Releases["recs"]["v1"].Yanked || len(s.Releases["header"]) != 1 {
		t.Errorf("load: revision %d, recs %+v, releases %v", s.Revision, s.Frontends["recs"], s.Releases)
	}
	all, err := st.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, c := range all {
		if c.Revision != uint64(i+1) {
			t.Errorf("history[%d] has revision %d", i, c.Revision)
		}
		kinds = append(kinds, c.Kind+" "+c.Frontend+" "+c.Label)
	}
	want := []string{"publish header v1", "publish recs v1", "publish recs v2", "promote recs v2", "yank recs v1"}
	if !slices.Equal(kinds, want) {
		t.Errorf("history %q, want %q", kinds, want)
	}
	if since, err := st.History(ctx, 3); err != nil || len(since) != 2 || since[0].Revision != 4 {
		t.Errorf("history since 3: %+v, %v; want revisions 4 and 5", since, err)
	}
	if got := s.Frontends["recs"].History; len(got) != 4 || got[2].From != "" || got[2].Kind != registry.KindPromote {
		t.Errorf("recs's own history: %+v", got)
	}
}

// TestIsolation checks that changing a value a store took or gave changes
// nothing in the store.
func TestIsolation(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	in := release("cart", "v1", "local")
	in.Settings = bff.Settings{"timeout": "1s"}
	out := publish(t, st, in)
	promote(t, st, "cart", "v1")
	want, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in.BFF, in.Settings["timeout"] = "changed", "changed"
	out.BFF, out.Settings["timeout"] = "changed", "changed"
	f, rs, err := st.List(ctx, "cart")
	if err != nil {
		t.Fatal(err)
	}
	f.Active, f.Versions[0], f.History[0].Label = "changed", "changed", "changed"
	rs[0].Yanked, rs[0].Settings["timeout"] = true, "changed"
	s, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Revision = 99
	s.Frontends["cart"].History[1].From = "changed"
	s.Releases["cart"]["v1"].Label = "changed"
	delete(s.Releases, "cart")
	h, err := st.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	h[0].Label = "changed"
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the store changed with values it took or gave:\ngot  %+v\nwant %+v", got, want)
	}
	if h, _ := st.History(ctx, 0); h[0].Label != "v1" {
		t.Errorf("the history changed with a value it gave: %+v", h[0])
	}

	tok := &registry.Token{ID: "ci", Hash: hash(1), Frontends: []string{"cart"}, Can: []string{registry.CanPublish}}
	if err := st.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	tok.Frontends[0] = "changed"
	byHash, err := st.TokenByHash(ctx, hash(1))
	if err != nil {
		t.Fatal(err)
	}
	byHash.Can[0] = "changed"
	all, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all[0].Frontends[0] = "changed"
	if got, err := st.TokenByHash(ctx, hash(1)); err != nil || !slices.Equal(got.Frontends, []string{"cart"}) || !slices.Equal(got.Can, []string{registry.CanPublish}) {
		t.Errorf("the token changed with values the store took or gave: %+v, %v", got, err)
	}
}

// hash is a token hash that ends with the digits of n.
func hash(n int) string {
	return fmt.Sprintf("%064d", n)
}

// TestTokens checks that tokens are kept by ID, found by hash, listed by
// ID and revoked, and that they do not move the revision.
func TestTokens(t *testing.T, open Open) {
	st := open(t)
	ctx := context.Background()
	ids := func() []string {
		t.Helper()
		ts, err := st.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tok := range ts {
			ids = append(ids, tok.ID+" "+tok.Hash[len(tok.Hash)-2:])
		}
		return ids
	}
	if got := ids(); len(got) != 0 {
		t.Fatalf("tokens of an empty store: %q", got)
	}
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := func(id string, n int) *registry.Token {
		return &registry.Token{ID: id, Hash: hash(n), Name: id + "'s CI", Frontends: []string{"cart", "recs"},
			Can: []string{registry.CanPublish, registry.CanPromote}, CreatedBy: "admin", CreatedAt: created, ExpiresAt: created.Add(720 * time.Hour)}
	}
	for _, tc := range []struct {
		name string
		tok  *registry.Token
		code string
		ids  []string // every token after, by ID, with the last two digits of its hash
		gone int      // a hash that then finds no token, if not 0
	}{
		{"a token", tok("web", 1), "", []string{"web 01"}, 0},
		{"another, listed before it", tok("ops", 2), "", []string{"ops 02", "web 01"}, 0},
		{"the same again", tok("ops", 2), "", []string{"ops 02", "web 01"}, 0},
		{"a new secret for the same ID", tok("web", 3), "", []string{"ops 02", "web 03"}, 1},
		{"the hash of another token", tok("new", 2), "conflict", []string{"ops 02", "web 03"}, 0},
		{"no ID", tok("", 4), bff.CodeBadRequest, []string{"ops 02", "web 03"}, 0},
		{"a hash that is not hex", &registry.Token{ID: "new", Hash: strings.Repeat("z", 64)}, bff.CodeBadRequest, []string{"ops 02", "web 03"}, 0},
		{"a short hash", &registry.Token{ID: "new", Hash: "ab"}, bff.CodeBadRequest, []string{"ops 02", "web 03"}, 0},
		{"the old hash of a replaced token", tok("new", 1), "", []string{"new 01", "ops 02", "web 03"}, 0},
	} {
		err := st.PutToken(ctx, tc.tok)
		if tc.code != "" {
			wantCode(t, err, tc.code, tc.name)
		} else if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(); !slices.Equal(got, tc.ids) {
			t.Errorf("%s: tokens %q, want %q", tc.name, got, tc.ids)
		}
		if tc.gone != 0 {
			if got, err := st.TokenByHash(ctx, hash(tc.gone)); Code(err) != bff.CodeNotFound {
				t.Errorf("%s: the old hash finds %+v, %v; want not_found", tc.name, got, err)
			}
		}
	}
	got, err := st.TokenByHash(ctx, hash(3))
	if err != nil {
		t.Fatal(err)
	}
	want := tok("web", 3)
	if got.ID != want.ID || got.Name != want.Name || got.CreatedBy != want.CreatedBy || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		!slices.Equal(got.Frontends, want.Frontends) || !slices.Equal(got.Can, want.Can) {
		t.Errorf("token by hash: %+v, want %+v", got, want)
	}
	if _, err := st.TokenByHash(ctx, hash(9)); Code(err) != bff.CodeNotFound {
		t.Errorf("token by an unknown hash: %v, want not_found", err)
	}
	if err := st.RevokeToken(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenByHash(ctx, hash(3)); Code(err) != bff.CodeNotFound {
		t.Errorf("token by the hash of a revoked token: %v, want not_found", err)
	}
	wantCode(t, st.RevokeToken(ctx, "web"), bff.CodeNotFound, "revoke a revoked token")
	wantCode(t, st.RevokeToken(ctx, "nobody"), bff.CodeNotFound, "revoke an unknown token")
	if got := ids(); !slices.Equal(got, []string{"new 01", "ops 02"}) {
		t.Errorf("tokens after a revoke: %q", got)
	}
	// A revoked token's hash is free again.
	if err := st.PutToken(ctx, tok("web", 3)); err != nil {
		t.Errorf("put a token with the hash of a revoked one: %v", err)
	}
	if got, err := st.TokenByHash(ctx, hash(1)); err != nil || got.ID != "new" {
		t.Errorf("token by hash after other changes: %+v, %v; want new", got, err)
	}
	if rev := revision(t, st); rev != 0 {
		t.Errorf("revision %d after changes of tokens only, want 0", rev)
	}
}
