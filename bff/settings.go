package bff

import (
	"fmt"
	"time"
)

// Settings are a BFF's named options, given in collage.yaml under a
// frontend's settings and, in Lambda, as the function's environment.
type Settings map[string]string

// Duration returns the setting key parsed as a time.Duration, or def when
// it is not set. A negative duration is an error.
func (s Settings) Duration(key string, def time.Duration) (time.Duration, error) {
	v, ok := s[key]
	if !ok || v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("setting %s: %q is not a duration of zero or more (like 150ms or 2s)", key, v)
	}
	return d, nil
}

// Factory builds a BFF from its settings. Each BFF package exports one, so
// the same code is linked into the shell and into a Lambda bootstrap.
type Factory func(Settings) (*BFF, error)
