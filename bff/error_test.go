package bff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/collage-dev/collage/bff"
)

func TestErrorConstructors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     *bff.Error
		want    bff.Error
		wantMsg string
	}{
		{
			name: "Errorf", err: bff.Errorf(http.StatusConflict, "only %d left of %q", 2, "sku-1"),
			want:    bff.Error{Status: 409, Message: `only 2 left of "sku-1"`},
			wantMsg: `409 conflict: only 2 left of "sku-1"`,
		},
		{
			name: "NotFound", err: bff.NotFound("no product %s", "p-9"),
			want:    bff.Error{Status: 404, Message: "no product p-9"},
			wantMsg: "404 not_found: no product p-9",
		},
		{
			name: "BadRequest", err: bff.BadRequest("qty", "must be at least %d", 1),
			want:    bff.Error{Status: 400, Message: "must be at least 1", Field: "qty"},
			wantMsg: "400 bad_request: qty: must be at least 1",
		},
		{
			name: "Redirect", err: bff.Redirect(http.StatusFound, "/login"),
			want:    bff.Error{Status: 302, Message: "redirect", Location: "/login"},
			wantMsg: "302 found: redirect",
		},
		{
			name: "explicit code", err: &bff.Error{Status: 422, Code: "out_of_stock", Message: "sold out"},
			want:    bff.Error{Status: 422, Code: "out_of_stock", Message: "sold out"},
			wantMsg: "422 out_of_stock: sold out",
		},
		{
			name: "code without status", err: &bff.Error{Code: bff.CodeUnknownEvent, Message: "not a request"},
			want:    bff.Error{Code: "unknown_event", Message: "not a request"},
			wantMsg: "unknown_event: not a request",
		},
		{
			name: "status without text", err: &bff.Error{Status: 599, Message: "odd"},
			want:    bff.Error{Status: 599, Message: "odd"},
			wantMsg: "599 error: odd",
		},
		{
			name: "format verbs in the message are not reinterpreted", err: bff.Errorf(400, "%s", "100%d"),
			want:    bff.Error{Status: 400, Message: "100%d"},
			wantMsg: "400 bad_request: 100%d",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if *tt.err != tt.want {
				t.Errorf("got %+v, want %+v", *tt.err, tt.want)
			}
			if got := tt.err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

// TestErrorCodes checks the code a status gets on the wire when the *Error
// gives none.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		code   string
	}{
		{400, "bad_request"},
		{401, "unauthorized"},
		{403, "forbidden"},
		{404, "not_found"},
		{409, "conflict"},
		{410, "gone"},
		{413, "payload_too_large"},
		{422, "unprocessable_entity"},
		{429, "too_many_requests"},
		{500, "internal_server_error"},
		{502, "bad_gateway"},
		{503, "service_unavailable"},
		{504, "gateway_timeout"},
		{599, "error"},
	}
	for _, tt := range tests {
		b, _ := newBFF()
		bff.Handle(b, "GET /fail", func(context.Context, struct{}) (int, error) {
			return 0, bff.Errorf(tt.status, "status %d", tt.status)
		})
		rec := serve(t, b, httptest.NewRequest("GET", "/fail", nil))
		if rec.Code != tt.status {
			t.Errorf("status = %d, want %d", rec.Code, tt.status)
		}
		want := errorDetail{Code: tt.code, Message: fmt.Sprintf("status %d", tt.status)}
		if got := errorOf(t, rec); got != want {
			t.Errorf("%d: error = %+v, want %+v", tt.status, got, want)
		}
	}
}

// TestStatusOf checks the one table that maps a code to a status.
func TestStatusOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   string
		status int
	}{
		{bff.CodeBadRequest, 400},
		{bff.CodeForbidden, 403},
		{bff.CodeNotFound, 404},
		{bff.CodeMethodNotAllowed, 405},
		{bff.CodePayloadTooLarge, 413},
		{bff.CodeUnsupportedMediaType, 415},
		{bff.CodeInternal, 500},
		{bff.CodeBadGateway, 502},
		{bff.CodeServiceUnavailable, 503},
		{bff.CodeGatewayTimeout, 504},
		{bff.CodeThrottled, 503},
		{bff.CodeResponseTooLarge, 500},
		{bff.CodeUnknownEvent, 400},
		{bff.CodeBadResponse, 502},
		{bff.CodeFunctionError, 502},
		{"conflict", 409},
		{"too_many_requests", 429},
		{"request_header_fields_too_large", 431},
		{"out_of_stock", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := bff.StatusOf(tt.code); got != tt.status {
			t.Errorf("StatusOf(%q) = %d, want %d", tt.code, got, tt.status)
		}
	}
	// The code an *Error derives from a status leads back to the status.
	for status := 100; status < 600; status++ {
		if http.StatusText(status) == "" {
			continue
		}
		var body struct{ Error struct{ Code string } }
		if err := json.Unmarshal((&bff.Error{Status: status}).JSON(), &body); err != nil {
			t.Fatal(err)
		}
		if got := bff.StatusOf(body.Error.Code); got != status {
			t.Errorf("status %d has code %q, whose status is %d", status, body.Error.Code, got)
		}
	}
}

// TestErrorJSON checks the bytes of the one JSON error shape, and how
// WriteError sends them.
func TestErrorJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      *bff.Error
		status   int
		location string
		body     string
	}{
		{
			name: "code only", err: &bff.Error{Code: bff.CodeBadGateway, Message: "the cart BFF did not answer"},
			status: 502, body: `{"error":{"code":"bad_gateway","message":"the cart BFF did not answer"}}`,
		},
		{
			name: "status only", err: bff.Errorf(http.StatusConflict, "only %d left", 3),
			status: 409, body: `{"error":{"code":"conflict","message":"only 3 left"}}`,
		},
		{
			name: "413 by status", err: bff.Errorf(http.StatusRequestEntityTooLarge, "too big"),
			status: 413, body: `{"error":{"code":"payload_too_large","message":"too big"}}`,
		},
		{
			name: "status and code", err: &bff.Error{Status: 422, Code: "out_of_stock", Message: "sold out", Field: "qty"},
			status: 422, body: `{"error":{"code":"out_of_stock","message":"sold out","field":"qty"}}`,
		},
		{
			name: "field", err: bff.BadRequest("qty", "must be at least %d", 1),
			status: 400, body: `{"error":{"code":"bad_request","message":"must be at least 1","field":"qty"}}`,
		},
		{
			name: "HTML is escaped", err: bff.NotFound("no item %q", "<script>"),
			status: 404, body: `{"error":{"code":"not_found","message":"no item \"\u003cscript\u003e\""}}`,
		},
		{
			name: "redirect", err: bff.Redirect(http.StatusSeeOther, "/cart"),
			status: 303, location: "/cart", body: `{"error":{"code":"see_other","message":"redirect"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(tt.err.JSON()); got != tt.body {
				t.Errorf("JSON() = %s, want %s", got, tt.body)
			}
			if got := tt.err.StatusCode(); got != tt.status {
				t.Errorf("StatusCode() = %d, want %d", got, tt.status)
			}
			rec := httptest.NewRecorder()
			bff.WriteError(rec, tt.err)
			if rec.Code != tt.status || rec.Body.String() != tt.body ||
				rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Location") != tt.location {
				t.Errorf("WriteError: %d %v %s, want %d, Location %q, %s", rec.Code, rec.Header(), rec.Body, tt.status, tt.location, tt.body)
			}
		})
	}
}
