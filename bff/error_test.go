package bff_test

import (
	"context"
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
		{413, "request_entity_too_large"},
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
