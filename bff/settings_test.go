package bff_test

import (
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
)

func TestSettingsDuration(t *testing.T) {
	t.Parallel()
	const def = 250 * time.Millisecond
	tests := []struct {
		name     string
		settings bff.Settings
		want     time.Duration
		wantErr  string
	}{
		{name: "nil settings", settings: nil, want: def},
		{name: "unset", settings: bff.Settings{"other": "1s"}, want: def},
		{name: "empty", settings: bff.Settings{"timeout": ""}, want: def},
		{name: "milliseconds", settings: bff.Settings{"timeout": "150ms"}, want: 150 * time.Millisecond},
		{name: "compound", settings: bff.Settings{"timeout": "1m30s"}, want: 90 * time.Second},
		{name: "zero", settings: bff.Settings{"timeout": "0"}, want: 0},
		{
			name: "no unit", settings: bff.Settings{"timeout": "150"},
			wantErr: `setting timeout: "150" is not a duration of zero or more (like 150ms or 2s)`,
		},
		{
			name: "negative", settings: bff.Settings{"timeout": "-1s"},
			wantErr: `setting timeout: "-1s" is not a duration of zero or more (like 150ms or 2s)`,
		},
		{
			name: "word", settings: bff.Settings{"timeout": "fast"},
			wantErr: `setting timeout: "fast" is not a duration of zero or more (like 150ms or 2s)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.settings.Duration("timeout", def)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Duration error = %v, want %q", err, tt.wantErr)
				}
				if got != 0 {
					t.Errorf("Duration = %v with an error, want 0", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Duration: %v", err)
			}
			if got != tt.want {
				t.Errorf("Duration = %v, want %v", got, tt.want)
			}
		})
	}
}
