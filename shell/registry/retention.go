package registry

import "time"

// Retention says which versions of a frontend stay servable besides the
// active one: a page rendered before a promote keeps loading its files and
// reaching its BFF for as long as its version is retained. Zero fields
// mean the default.
type Retention struct {
	// Versions is how many of the versions active before the current one
	// stay servable, the most recently active first. Optional. Default:
	// 20. A negative count retains none by count.
	Versions int
	// Age is how long a version stays servable once another replaced it
	// as the active one. Optional. Default: 7 days. A negative age
	// retains none by age.
	Age time.Duration
}

// DefaultRetention is what zero fields of a Retention mean.
var DefaultRetention = Retention{Versions: 20, Age: 7 * 24 * time.Hour}

func (k Retention) withDefaults() Retention {
	if k.Versions == 0 {
		k.Versions = DefaultRetention.Versions
	}
	if k.Age == 0 {
		k.Age = DefaultRetention.Age
	}
	return k
}

// Retained returns the labels of f's versions that stay servable at now
// besides the active one, the most recently active first; releases holds
// f's releases by label, as State.Releases does. A version is retained
// when it is not yanked and was active once (promoted or rolled back to,
// alone or with every frontend), and either:
//
//   - it is among the last k.Versions versions active before the current
//     one, counted once each however often they were active, yanked ones
//     not counted; or
//   - it stopped being active less than k.Age before now.
//
// Whichever keeps more: a version either rule keeps is retained. A version
// that was never active is never retained, however recent: no page was
// rendered with it.
func (k Retention) Retained(f *FrontendState, releases map[string]*Release, now time.Time) []string {
	k = k.withDefaults()
	var labels []string
	seen := map[string]bool{f.Active: true}
	counted := 0
	// Going back through the history, ended is when the activation at
	// hand was replaced: the time of the activation after it.
	var ended time.Time
	for i := len(f.History) - 1; i >= 0; i-- {
		c := f.History[i]
		if !c.activates() {
			continue
		}
		replaced := ended
		ended = c.At
		// A label seen already was active later than this activation.
		if seen[c.Label] {
			continue
		}
		seen[c.Label] = true
		if r := releases[c.Label]; r == nil || r.Yanked {
			continue
		}
		counted++
		if counted <= k.Versions || now.Sub(replaced) < k.Age {
			labels = append(labels, c.Label)
		}
	}
	return labels
}

// Referenced returns the key of every blob a release of st that is not
// yanked names: the keep set of Blobs.Sweep. Every version counts,
// retained or not, since any can be rolled back to.
func Referenced(st *State) map[string]bool {
	keys := map[string]bool{}
	for _, rs := range st.Releases {
		for _, r := range rs {
			if r.Yanked {
				continue
			}
			for _, key := range r.Blobs {
				keys[key] = true
			}
		}
	}
	return keys
}
