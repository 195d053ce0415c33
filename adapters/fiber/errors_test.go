package fiber

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/gofiber/fiber/v2"
)

// TestErrorHandler checks that every error a handler returns leaves in the
// one JSON error shape, and that a 5xx's detail goes to the log alone.
func TestErrorHandler(t *testing.T) {
	t.Parallel()
	const internal = `{"error":{"code":"internal_server_error","message":"Internal Server Error"}}`
	tests := []struct {
		name   string
		err    error
		status int
		body   string
		logged bool
	}{
		{
			name: "the shell's 4xx", err: &bff.Error{Code: bff.CodeForbidden, Message: "cross-origin POST refused"},
			status: 403, body: `{"error":{"code":"forbidden","message":"cross-origin POST refused"}}`,
		},
		{
			name: "the shell's 413", err: &bff.Error{Code: bff.CodePayloadTooLarge, Message: "the body is larger than 10 bytes"},
			status: 413, body: `{"error":{"code":"payload_too_large","message":"the body is larger than 10 bytes"}}`,
		},
		{
			name: "wrapped", err: fmt.Errorf("serving: %w", &bff.Error{Code: bff.CodeNotFound, Message: "no such asset"}),
			status: 404, body: `{"error":{"code":"not_found","message":"no such asset"}}`,
		},
		{
			name: "the shell's 5xx", err: &bff.Error{Code: bff.CodeBadGateway, Message: "the cart BFF did not answer"},
			status: 502, body: `{"error":{"code":"bad_gateway","message":"Bad Gateway"}}`, logged: true,
		},
		{
			name: "fiber's 4xx", err: fiber.NewError(fiber.StatusMethodNotAllowed, "Method Not Allowed"),
			status: 405, body: `{"error":{"code":"method_not_allowed","message":"Method Not Allowed"}}`,
		},
		{
			name: "fiber's 5xx", err: fiber.NewError(fiber.StatusServiceUnavailable, "pool 3 exhausted"),
			status: 503, body: `{"error":{"code":"service_unavailable","message":"Service Unavailable"}}`, logged: true,
		},
		{name: "a plain error", err: errors.New("open /srv/x: permission denied"), status: 500, body: internal, logged: true},
		{name: "a code without a status", err: &bff.Error{Code: "made_up", Message: "m"}, status: 500, body: internal, logged: true},
		{name: "a status that is not an error's", err: fiber.NewError(fiber.StatusOK, "fine"), status: 500, body: internal, logged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs strings.Builder
			app := fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: errorHandler(loggingHandler(t, &logs))})
			app.Get("/fail", func(c *fiber.Ctx) error {
				c.Set(fiber.HeaderXRequestID, "req-1")
				return tt.err
			})
			resp, err := app.Test(httptest.NewRequest("GET", "/fail", nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || string(body) != tt.body || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("answer %d %q %s, want %d application/json %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, tt.status, tt.body)
			}
			l := logs.String()
			if logged := strings.Contains(l, "request failed"); logged != tt.logged {
				t.Errorf("logged %v, want %v: %q", logged, tt.logged, l)
			}
			if tt.logged && (!strings.Contains(l, "request_id=req-1") || !strings.Contains(l, "path=/fail") || !strings.Contains(l, tt.err.Error())) {
				t.Errorf("log %q, want the request id, the path and the error", l)
			}
		})
	}
}

// loggingHandler is a shell handler that logs to w.
func loggingHandler(t *testing.T, w io.Writer) *shell.Handler {
	t.Helper()
	sh, err := shell.New(shell.Options{Log: slog.New(slog.NewTextHandler(w, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return shell.NewHandler(sh, Config{})
}
