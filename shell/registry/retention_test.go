package registry_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/collage-dev/collage/shell/registry"
)

func TestRetained(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	// A step of a history: kind, label, how long before now.
	type step struct {
		kind, label string
		ago         time.Duration
	}
	pub := func(label string, ago time.Duration) step { return step{registry.KindPublish, label, ago} }
	act := func(label string, ago time.Duration) step { return step{registry.KindPromote, label, ago} }
	// activations activates v1 to vn, each every after the one before,
	// the last one now.
	activations := func(n int, every time.Duration) []step {
		var steps []step
		for i := 1; i <= n; i++ {
			steps = append(steps, act(fmt.Sprintf("v%d", i), time.Duration(n-i)*every))
		}
		return steps
	}
	labels := func(from, to int) []string {
		var ls []string
		for i := from; i >= to; i-- {
			ls = append(ls, fmt.Sprintf("v%d", i))
		}
		return ls
	}
	two := registry.Retention{Versions: 2, Age: day}
	for _, tc := range []struct {
		name    string
		k       registry.Retention
		history []step
		yanked  []string
		missing string // a label the releases lack
		want    []string
	}{
		{"nothing active", two, []step{pub("v1", day)}, nil, "", nil},
		{"only the active one", two, []step{pub("v1", day), act("v1", day)}, nil, "", nil},
		{"the previous one, past the age", two, []step{act("v1", 3*day), act("v2", 2*day)}, nil, "", []string{"v1"}},
		{"by count, past the age", two, []step{act("v1", 10*day), act("v2", 9*day), act("v3", 8*day), act("v4", 7*day)}, nil, "", []string{"v3", "v2"}},
		{"by age, past the count", two, []step{act("v1", 5*time.Hour), act("v2", 4*time.Hour), act("v3", 3*time.Hour), act("v4", 2*time.Hour)}, nil, "", []string{"v3", "v2", "v1"}},
		{"whichever keeps more", two, []step{act("v1", 50*time.Hour), act("v2", 30*time.Hour), act("v3", 3*time.Hour), act("v4", 2*time.Hour), act("v5", time.Hour)}, nil, "", []string{"v4", "v3", "v2"}},
		{"the age runs from when it was replaced, not activated", two, []step{act("v1", 10*day), act("v2", 9*day), act("v3", 8*day), act("v4", 23*time.Hour)}, nil, "", []string{"v3", "v2"}},
		{"a yanked version neither retained nor counted", registry.Retention{Versions: 1, Age: day}, []step{act("v1", 10*day), act("v2", 9*day), act("v3", 8*day)}, []string{"v2"}, "", []string{"v1"}},
		{"a yanked version within the age", two, []step{act("v1", 3*time.Hour), act("v2", 2*time.Hour), act("v3", time.Hour)}, []string{"v2"}, "", []string{"v1"}},
		{"a version the releases lack", two, []step{act("v1", 3*time.Hour), act("v2", 2*time.Hour), act("v3", time.Hour)}, nil, "v2", []string{"v1"}},
		{"published within the age, never active", registry.Retention{Versions: 1, Age: day}, []step{act("v1", 10*day), act("v2", 9*day), pub("v3", time.Hour), pub("v4", time.Minute)}, nil, "", []string{"v1"}},
		{"rolled back: the version rolled back from", two, []step{act("v1", 3*time.Hour), act("v2", 2*time.Hour), {registry.KindRollback, "v1", time.Hour}}, nil, "", []string{"v2"}},
		{"active twice, counted once", two, []step{act("v1", 10*day), act("v2", 9*day), act("v1", 8*day), act("v3", 7*day)}, nil, "", []string{"v1", "v2"}},
		{"active twice: the age runs from the last time", registry.Retention{Versions: -1, Age: day}, []step{act("v1", 10*day), act("v2", 9*day), act("v1", 5*time.Hour), act("v3", 4*time.Hour)}, nil, "", []string{"v1", "v2"}},
		{"rolled back with every frontend", two, []step{act("v1", 3*day), act("v2", 2*day), {registry.KindRollbackAll, "v1", day}}, nil, "", []string{"v2"}},
		{"a negative count retains by age only", registry.Retention{Versions: -1, Age: day}, []step{act("v1", 3*day), act("v2", 2*day), act("v3", 4*time.Hour)}, nil, "", []string{"v2"}},
		{"a negative age retains by count only", registry.Retention{Versions: 1, Age: -1}, []step{act("v1", 3*time.Hour), act("v2", 2*time.Hour), act("v3", time.Hour)}, nil, "", []string{"v2"}},
		{"default: 20 versions when a day apart", registry.Retention{}, activations(30, day), nil, "", labels(29, 10)},
		{"default: 7 days when an hour apart", registry.Retention{}, activations(30, time.Hour), nil, "", labels(29, 1)},
	} {
		f := &registry.FrontendState{Name: "cart"}
		releases := map[string]*registry.Release{}
		for _, s := range tc.history {
			f.History = append(f.History, registry.Change{Kind: s.kind, Frontend: "cart", Label: s.label, At: now.Add(-s.ago)})
			if s.kind != registry.KindPublish {
				f.Active = s.label
			}
			if s.label != tc.missing {
				releases[s.label] = &registry.Release{Frontend: "cart", Label: s.label, Yanked: slices.Contains(tc.yanked, s.label)}
			}
		}
		if got := tc.k.Retained(f, releases, now); !slices.Equal(got, tc.want) {
			t.Errorf("%s: retained %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReferenced(t *testing.T) {
	t.Parallel()
	key := func(c byte) string { return fmt.Sprintf("%c%063d", c, 0) }
	st := &registry.State{Releases: map[string]map[string]*registry.Release{
		"cart": {
			"v1": {Blobs: map[string]string{"a.js": key('a'), "shared.js": key('s')}},
			"v2": {Blobs: map[string]string{"b.js": key('b'), "shared.js": key('s')}, Yanked: true},
			"v3": {Blobs: map[string]string{"c.js": key('c')}},
		},
		"recs": {
			"v1": {Blobs: map[string]string{"y.js": key('e')}, Yanked: true},
			"v2": {},
		},
	}}
	got := slices.Sorted(maps.Keys(registry.Referenced(st)))
	if want := []string{key('a'), key('c'), key('s')}; !slices.Equal(got, want) {
		t.Errorf("referenced %q, want %q", got, want)
	}
}
