package parity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/internal/emulator"
	"github.com/collage-dev/collage/tests/parity"
)

// TestRealEventsUnderEmulator sends every real AWS event, and each as
// HEAD, to bootstraps under the Lambda emulator, one call at a time: to
// one that answers what its handler saw, which must be what the client
// sent, and to the parity BFF's, whose answer must equal the codec's
// in-process answer to the same event.
func TestRealEventsUnderEmulator(t *testing.T) {
	evs := parity.RealEvents(t)
	rie := emulator.Require(t)
	seen := emulator.StartT(t, rie, bootstrap(t, "./tests/parity/cmd/seen"))
	bffEm := emulator.StartT(t, rie, bootstrap(t, "./tests/parity/cmd/bootstrap"))
	b, err := parity.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = slog.New(slog.DiscardHandler)
	inProcess := lambda.NewHandler(b, lambda.Options{Log: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for _, ev := range evs {
		head, err := ev.AsHead()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []parity.RealEvent{ev, head} {
			// Not parallel: the emulator fails on overlapping calls.
			t.Run(e.Name, func(t *testing.T) {
				status, out, err := seen.Invoke(ctx, e.Payload)
				if err != nil || status != 200 {
					t.Fatalf("the emulator answered %d %s, %v", status, out, err)
				}
				if err := e.Check(out); err != nil {
					t.Errorf("under the emulator:\n%v", err)
				}
				want, err := inProcess.Invoke(ctx, e.Payload)
				if err != nil {
					t.Fatal(err)
				}
				_, got, err := bffEm.Invoke(ctx, e.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if !sameJSON(got, want) {
					t.Errorf("the parity BFF's bootstrap answered\n%s\nin-process\n%s", got, want)
				}
			})
		}
	}
}

// sameJSON says whether a and b hold the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}
