package cli

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/adapters/fiber"
)

func TestEdgeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want fiber.Config // checked when err is ""
		err  string
	}{
		{args: nil, want: fiber.Config{
			HeaderTimeout: fiber.DefaultHeaderTimeout, BodyTimeout: fiber.DefaultBodyTimeout,
			IdleTimeout: fiber.DefaultIdleTimeout, WriteTimeout: fiber.DefaultWriteTimeout,
			ShutdownTimeout: fiber.DefaultShutdownTimeout, MaxConns: fiber.DefaultMaxConns,
			MaxBody: fiber.DefaultMaxBody, MaxBFFResponse: fiber.DefaultMaxBFFResponse,
		}},
		{args: []string{"--header-timeout", "2s", "--max-conns", "50", "--max-body", "1000", "--expose-fragments"}, want: fiber.Config{
			HeaderTimeout: 2 * time.Second, BodyTimeout: fiber.DefaultBodyTimeout,
			IdleTimeout: fiber.DefaultIdleTimeout, WriteTimeout: fiber.DefaultWriteTimeout,
			ShutdownTimeout: fiber.DefaultShutdownTimeout, MaxConns: 50,
			MaxBody: 1000, MaxBFFResponse: fiber.DefaultMaxBFFResponse, ExposeFragments: true,
		}},
		{args: []string{"--header-timeout", "0"}, err: "--header-timeout 0s: must be positive"},
		{args: []string{"--shutdown-timeout", "-1s"}, err: "--shutdown-timeout -1s: must be positive"},
		{args: []string{"--max-body", "0"}, err: "--max-body 0: must be positive"},
		{args: []string{"--max-conns", "-5"}, err: "--max-conns -5: must be positive"},
		{args: []string{"--server", "caddy"}, err: `--server "caddy": want fiber or nethttp`},
		{args: []string{"--write-timeout", "5s"}, err: "--write-timeout 5s is shorter than --page-timeout 10s"},
		{args: []string{"--write-timeout", "5s", "--page-timeout", "5s"}, want: fiber.Config{
			HeaderTimeout: fiber.DefaultHeaderTimeout, BodyTimeout: fiber.DefaultBodyTimeout,
			IdleTimeout: fiber.DefaultIdleTimeout, WriteTimeout: 5 * time.Second,
			ShutdownTimeout: fiber.DefaultShutdownTimeout, MaxConns: fiber.DefaultMaxConns,
			MaxBody: fiber.DefaultMaxBody, MaxBFFResponse: fiber.DefaultMaxBFFResponse,
		}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var o serveOptions
		o.flags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		got, err := o.edge()
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%v: %v", tt.args, err)
		case tt.err == "" && !reflect.DeepEqual(got, tt.want):
			t.Errorf("%v: %+v, want %+v", tt.args, got, tt.want)
		}
	}
}
