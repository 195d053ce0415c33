package bff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/collage-dev/collage/bff"
)

// order is an In with every kind of source.
type order struct {
	ProductID string `json:"product_id"`
	Qty       int    `json:"qty"`
	Gift      struct {
		Wrap bool   `json:"wrap"`
		Note string `json:"note"`
	} `json:"gift"`

	ID      string    `path:"id"`
	Q       string    `query:"q"`
	Tags    []string  `query:"tag"`
	Page    int       `query:"page"`
	Limit   uint8     `query:"limit"`
	Debug   bool      `query:"debug"`
	Ratio   float64   `query:"ratio"`
	Nums    []int64   `query:"n"`
	Foo     string    `header:"X-Foo"`
	Retries int       `header:"X-Retries"`
	Session string    `cookie:"sid"`
	At      time.Time `query:"at"`
	secret  string    `query:"secret"` // unexported: never set
}

// decodeOrder serves r through "/orders/{id}" (any method) and returns the
// decoded order, or the response when the function was not called.
func decodeOrder(t *testing.T, r *http.Request) (order, *httptest.ResponseRecorder, bool) {
	t.Helper()
	b, _ := newBFF()
	var got order
	called := false
	bff.Handle(b, "/orders/{id}", func(_ context.Context, in order) (string, error) {
		got, called = in, true
		return "ok", nil
	})
	rec := serve(t, b, r)
	if called && (rec.Code != 200 || rec.Body.String() != `"ok"`) {
		t.Fatalf("function called but answered %d %s", rec.Code, rec.Body)
	}
	return got, rec, called
}

// newRequest builds a request with an optional JSON body and headers given
// as "Key: value" pairs.
func newRequest(method, target, body string, headers ...string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Add(k, v)
	}
	return r
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  *http.Request
		want func(*order)
	}{
		{
			name: "no body no tags",
			req:  newRequest("GET", "/orders/1", ""),
			want: func(o *order) { o.ID = "1" },
		},
		{
			name: "JSON body",
			req: newRequest("POST", "/orders/1", `{"product_id":"sku-1","qty":3,"gift":{"wrap":true,"note":"hi"}}`,
				"Content-Type: application/json"),
			want: func(o *order) {
				o.ID, o.ProductID, o.Qty = "1", "sku-1", 3
				o.Gift.Wrap, o.Gift.Note = true, "hi"
			},
		},
		{
			name: "JSON with charset",
			req:  newRequest("PUT", "/orders/1", `{"qty":3}`, "Content-Type: application/json; charset=utf-8"),
			want: func(o *order) { o.ID, o.Qty = "1", 3 },
		},
		{
			name: "media type in capitals",
			req:  newRequest("PUT", "/orders/1", `{"qty":3}`, "Content-Type: Application/JSON; Charset=UTF-8"),
			want: func(o *order) { o.ID, o.Qty = "1", 3 },
		},
		{
			name: "empty body without Content-Type",
			req:  httptest.NewRequest("POST", "/orders/1", strings.NewReader("")),
			want: func(o *order) { o.ID = "1" },
		},
		{
			name: "empty body with another Content-Type",
			req: func() *http.Request {
				// A reader, not http.NoBody: a transport that cannot tell an
				// empty body from none.
				r := httptest.NewRequest("DELETE", "/orders/1", strings.NewReader(""))
				r.Header.Set("Content-Type", "text/plain")
				return r
			}(),
			want: func(o *order) { o.ID = "1" },
		},
		{
			name: "blank body",
			req:  newRequest("POST", "/orders/1", " \n\t ", "Content-Type: application/json"),
			want: func(o *order) { o.ID = "1" },
		},
		{
			name: "JSON null",
			req:  newRequest("POST", "/orders/1", `null`, "Content-Type: application/json"),
			want: func(o *order) { o.ID = "1" },
		},
		{
			name: "escaped path value",
			req:  newRequest("GET", "/orders/a%20b", ""),
			want: func(o *order) { o.ID = "a b" },
		},
		{
			name: "query scalars",
			req:  newRequest("GET", "/orders/1?q=red+shoes&page=-2&limit=255&debug=true&ratio=0.5", ""),
			want: func(o *order) {
				o.ID, o.Q, o.Page, o.Limit, o.Debug, o.Ratio = "1", "red shoes", -2, 255, true, 0.5
			},
		},
		{
			name: "bool as 1",
			req:  newRequest("GET", "/orders/1?debug=1", ""),
			want: func(o *order) { o.ID, o.Debug = "1", true },
		},
		{
			name: "repeated params fill slices",
			req:  newRequest("GET", "/orders/1?tag=a&n=1&tag=b&n=-9000000000&tag=", ""),
			want: func(o *order) {
				o.ID, o.Tags, o.Nums = "1", []string{"a", "b", ""}, []int64{1, -9000000000}
			},
		},
		{
			name: "repeated param into a scalar takes the first",
			req:  newRequest("GET", "/orders/1?q=first&q=second", ""),
			want: func(o *order) { o.ID, o.Q = "1", "first" },
		},
		{
			name: "header and cookie",
			req:  newRequest("GET", "/orders/1", "", "x-foo: bar", "X-Retries: 3", "Cookie: theme=dark; sid=s3cr3t"),
			want: func(o *order) { o.ID, o.Foo, o.Retries, o.Session = "1", "bar", 3, "s3cr3t" },
		},
		{
			name: "unexported field is ignored",
			req:  newRequest("GET", "/orders/1?secret=x", ""),
			want: func(o *order) { o.ID = "1" },
		},
		{
			name: "every source at once",
			req: newRequest("POST", "/orders/9?q=x&tag=t", `{"product_id":"p","qty":1}`,
				"Content-Type: application/json", "X-Foo: f", "Cookie: sid=c"),
			want: func(o *order) {
				o.ID, o.ProductID, o.Qty, o.Q, o.Tags, o.Foo, o.Session = "9", "p", 1, "x", []string{"t"}, "f", "c"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, rec, called := decodeOrder(t, tt.req)
			if !called {
				t.Fatalf("function not called: %d %s", rec.Code, rec.Body)
			}
			var want order
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// failingReader fails the way a dropped connection does.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// jsonOfSize returns a valid order body exactly n bytes long.
func jsonOfSize(n int) string {
	const head, tail = `{"product_id":"`, `"}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const ctJSON = "Content-Type: application/json"
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		want       errorDetail
	}{
		{
			name: "wrong JSON type", req: newRequest("POST", "/orders/1", `{"qty":"two"}`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "qty", Message: "must be an integer, not JSON string"},
		},
		{
			name: "fraction for an integer", req: newRequest("POST", "/orders/1", `{"qty":1.5}`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "qty", Message: "must be an integer, not JSON number 1.5"},
		},
		{
			name: "wrong type in a nested object", req: newRequest("POST", "/orders/1", `{"gift":{"wrap":"yes"}}`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "gift.wrap", Message: "must be a boolean, not JSON string"},
		},
		{
			name: "object for a string", req: newRequest("POST", "/orders/1", `{"product_id":{}}`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "product_id", Message: "must be a string, not JSON object"},
		},
		{
			name: "array for the whole input", req: newRequest("POST", "/orders/1", `[1]`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Message: "must be an object, not JSON array"},
		},
		{
			name: "unknown field", req: newRequest("POST", "/orders/1", `{"qty":1,"bogus":true}`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "bogus", Message: "unknown field"},
		},
		{
			name: "truncated JSON", req: newRequest("POST", "/orders/1", `{"qty":`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Message: "invalid JSON: unexpected end of body"},
		},
		{
			name: "JSON syntax error", req: newRequest("POST", "/orders/1", `{"qty" 1}`, ctJSON),
			wantStatus: 400,
			want: errorDetail{Code: "bad_request",
				Message: "invalid JSON at byte 8: invalid character '1' after object key"},
		},
		{
			name: "two JSON values", req: newRequest("POST", "/orders/1", `{"qty":1} {"qty":2}`, ctJSON),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Message: "body holds more than one JSON value"},
		},
		{
			name: "stray closing brace", req: newRequest("POST", "/orders/1", `{"qty":1}}`, ctJSON),
			wantStatus: 400,
			want: errorDetail{Code: "bad_request",
				Message: "invalid JSON at byte 10: invalid character '}' looking for beginning of value"},
		},
		{
			name: "stray closing bracket", req: newRequest("POST", "/orders/1", "{\"qty\":1}\n]", ctJSON),
			wantStatus: 400,
			want: errorDetail{Code: "bad_request",
				Message: "invalid JSON at byte 11: invalid character ']' looking for beginning of value"},
		},
		{
			name: "text/plain", req: newRequest("POST", "/orders/1", `{"qty":1}`, "Content-Type: text/plain"),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: `Content-Type must be application/json, not "text/plain"`},
		},
		{
			name:       "form Content-Type",
			req:        newRequest("POST", "/orders/1", `qty=1`, "Content-Type: application/x-www-form-urlencoded"),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: `Content-Type must be application/json, not "application/x-www-form-urlencoded"`},
		},
		{
			name:       "+json suffix",
			req:        newRequest("POST", "/orders/1", `{"qty":1}`, "Content-Type: application/evil+json"),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: `Content-Type must be application/json, not "application/evil+json"`},
		},
		{
			name:       "a longer type that starts the same",
			req:        newRequest("POST", "/orders/1", `{"qty":1}`, "Content-Type: application/jsonx"),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: `Content-Type must be application/json, not "application/jsonx"`},
		},
		{
			name: "no Content-Type", req: newRequest("POST", "/orders/1", `{"qty":1}`),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: "Content-Type must be application/json; the request has a body and no Content-Type"},
		},
		{
			name: "blank body without Content-Type", req: newRequest("POST", "/orders/1", " "),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: "Content-Type must be application/json; the request has a body and no Content-Type"},
		},
		{
			name:       "two Content-Types",
			req:        newRequest("POST", "/orders/1", `{"qty":1}`, ctJSON, "Content-Type: text/plain"),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: "Content-Type must be application/json, once; the request has 2"},
		},
		{
			name: "unparsable Content-Type", req: newRequest("POST", "/orders/1", `{}`, "Content-Type: ;;;"),
			wantStatus: 415,
			want: errorDetail{Code: "unsupported_media_type",
				Message: `Content-Type must be application/json, not ";;;"`},
		},
		{
			name: "body over the default bound", req: newRequest("POST", "/orders/1", jsonOfSize(bff.DefaultMaxBodyBytes+1), ctJSON),
			wantStatus: 413,
			want: errorDetail{Code: "request_entity_too_large",
				Message: fmt.Sprintf("body is larger than %d bytes", bff.DefaultMaxBodyBytes)},
		},
		{
			name:       "valid JSON then blanks past the bound",
			req:        newRequest("POST", "/orders/1", `{"qty":1}`+strings.Repeat(" ", bff.DefaultMaxBodyBytes), ctJSON),
			wantStatus: 413,
			want: errorDetail{Code: "request_entity_too_large",
				Message: fmt.Sprintf("body is larger than %d bytes", bff.DefaultMaxBodyBytes)},
		},
		{
			name: "unreadable body", req: httptest.NewRequest("POST", "/orders/1", failingReader{}),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Message: "could not read the body"},
		},
		{
			name: "bad query int", req: newRequest("GET", "/orders/1?page=two", ""),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "page", Message: `must be an integer, not "two"`},
		},
		{
			name: "query uint overflow", req: newRequest("GET", "/orders/1?limit=256", ""),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "limit", Message: `must be a non-negative integer, not "256"`},
		},
		{
			name: "negative query uint", req: newRequest("GET", "/orders/1?limit=-1", ""),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "limit", Message: `must be a non-negative integer, not "-1"`},
		},
		{
			name: "bad query bool", req: newRequest("GET", "/orders/1?debug=maybe", ""),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "debug", Message: `must be true or false, not "maybe"`},
		},
		{
			name: "bad query float", req: newRequest("GET", "/orders/1?ratio=half", ""),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "ratio", Message: `must be a number, not "half"`},
		},
		{
			name: "bad element of a query slice", req: newRequest("GET", "/orders/1?n=1&n=x", ""),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "n", Message: `must be an integer, not "x"`},
		},
		{
			name: "bad header int", req: newRequest("GET", "/orders/1", "", "X-Retries: many"),
			wantStatus: 400,
			want:       errorDetail{Code: "bad_request", Field: "X-Retries", Message: `must be an integer, not "many"`},
		},
		{
			name: "query into an unsupported type", req: newRequest("GET", "/orders/1?at=2024-01-01", ""),
			wantStatus: 400,
			want: errorDetail{Code: "bad_request", Field: "at",
				Message: "field of type time.Time cannot be set from a request"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, rec, called := decodeOrder(t, tt.req)
			if called {
				t.Fatal("function called with a bad input")
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := errorOf(t, rec); got != tt.want {
				t.Errorf("error = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeMaxBodyBytesIsInclusive(t *testing.T) {
	t.Parallel()
	body := jsonOfSize(bff.DefaultMaxBodyBytes)
	got, rec, called := decodeOrder(t, newRequest("POST", "/orders/1", body, "Content-Type: application/json"))
	if !called {
		t.Fatalf("a body of exactly DefaultMaxBodyBytes was refused: %d %s", rec.Code, rec.Body)
	}
	if want := len(body) - len(`{"product_id":""}`); len(got.ProductID) != want {
		t.Errorf("product_id has %d bytes, want %d", len(got.ProductID), want)
	}
}

func TestDecodePathInt(t *testing.T) {
	t.Parallel()
	b, _ := newBFF()
	bff.Handle(b, "GET /pages/{n}", func(_ context.Context, in struct {
		N uint16 `path:"n"`
	}) (uint16, error) {
		return in.N, nil
	})
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/pages/65535", 200, `65535`},
		{"/pages/0", 200, `0`},
		{"/pages/65536", 400, `{"error":{"code":"bad_request","message":"must be a non-negative integer, not \"65536\"","field":"n"}}`},
		{"/pages/x", 400, `{"error":{"code":"bad_request","message":"must be a non-negative integer, not \"x\"","field":"n"}}`},
	}
	for _, tt := range tests {
		rec := serve(t, b, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("GET %s = %d %s, want %d %s", tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
	}
}

func TestDecodeNonStruct(t *testing.T) {
	t.Parallel()
	b, _ := newBFF()
	bff.Handle(b, "POST /sum", func(_ context.Context, in []int) (int, error) {
		sum := 0
		for _, n := range in {
			sum += n
		}
		return sum, nil
	})
	bff.Handle(b, "POST /keys", func(_ context.Context, in map[string]int) (int, error) {
		return len(in), nil
	})
	tests := []struct {
		path, body string
		wantStatus int
		wantBody   string
	}{
		{"/sum", `[1,2,39]`, 200, `42`},
		{"/sum", ``, 200, `0`},
		{"/sum", `{"a":1}`, 400, `{"error":{"code":"bad_request","message":"must be an array, not JSON object"}}`},
		{"/keys", `{"a":1,"b":2}`, 200, `2`},
	}
	for _, tt := range tests {
		rec := serve(t, b, newRequest("POST", tt.path+"?a=1", tt.body, "Content-Type: application/json"))
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("POST %s %s = %d %s, want %d %s", tt.path, tt.body, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
	}
}

// byValue validates with a value receiver.
type byValue struct {
	Qty int `json:"qty"`
}

func (v byValue) Validate() error {
	if v.Qty <= 0 {
		return errors.New("qty must be positive")
	}
	return nil
}

// byPointer validates with a pointer receiver, and normalizes as it does.
type byPointer struct {
	SKU string `json:"sku"`
	Qty int    `query:"qty"`
}

func (p *byPointer) Validate() error {
	p.SKU = strings.ToUpper(strings.TrimSpace(p.SKU))
	if p.SKU == "" {
		return bff.BadRequest("sku", "is required")
	}
	switch {
	case p.Qty > 99:
		return &bff.Error{Status: 422, Code: "too_many", Message: "at most 99", Field: "qty"}
	case p.Qty < 0:
		return fmt.Errorf("check qty: %w", bff.BadRequest("qty", "must not be negative"))
	}
	return nil
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		register   func(b *bff.BFF, got *string)
		target     string
		body       string
		wantStatus int
		want       errorDetail // when the function is not called
		wantGot    string      // what the function saw, when it is
	}{
		{
			name: "value receiver passes",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /v", func(_ context.Context, in byValue) (int, error) {
					*got = fmt.Sprint(in.Qty)
					return in.Qty, nil
				})
			},
			target: "/v", body: `{"qty":2}`, wantStatus: 200, wantGot: "2",
		},
		{
			name: "value receiver fails with a plain error",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /v", func(_ context.Context, in byValue) (int, error) {
					*got = "called"
					return in.Qty, nil
				})
			},
			target: "/v", body: `{"qty":0}`, wantStatus: 400,
			want: errorDetail{Code: "bad_request", Message: "qty must be positive"},
		},
		{
			name: "pointer receiver passes and normalizes",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /p", func(_ context.Context, in byPointer) (int, error) {
					*got = fmt.Sprintf("%s×%d", in.SKU, in.Qty)
					return in.Qty, nil
				})
			},
			target: "/p?qty=3", body: `{"sku":"  ab-1 "}`, wantStatus: 200, wantGot: "AB-1×3",
		},
		{
			name: "pointer receiver *Error keeps its field",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /p", func(_ context.Context, in byPointer) (int, error) {
					*got = "called"
					return in.Qty, nil
				})
			},
			target: "/p", body: `{"sku":"  "}`, wantStatus: 400,
			want: errorDetail{Code: "bad_request", Field: "sku", Message: "is required"},
		},
		{
			name: "Validate sees tagged fields; *Error keeps status and code",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /p", func(_ context.Context, in byPointer) (int, error) {
					*got = "called"
					return in.Qty, nil
				})
			},
			target: "/p?qty=100", body: `{"sku":"a"}`, wantStatus: 422,
			want: errorDetail{Code: "too_many", Field: "qty", Message: "at most 99"},
		},
		{
			name: "wrapped *Error is unwrapped",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /p", func(_ context.Context, in byPointer) (int, error) {
					*got = "called"
					return in.Qty, nil
				})
			},
			target: "/p?qty=-1", body: `{"sku":"a"}`, wantStatus: 400,
			want: errorDetail{Code: "bad_request", Field: "qty", Message: "must not be negative"},
		},
		{
			name: "pointer In",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /p", func(_ context.Context, in *byPointer) (int, error) {
					*got = "called"
					return in.Qty, nil
				})
			},
			target: "/p", body: `{"sku":""}`, wantStatus: 400,
			want: errorDetail{Code: "bad_request", Field: "sku", Message: "is required"},
		},
		{
			name: "decode error comes before Validate",
			register: func(b *bff.BFF, got *string) {
				bff.Handle(b, "POST /v", func(_ context.Context, in byValue) (int, error) {
					*got = "called"
					return in.Qty, nil
				})
			},
			target: "/v", body: `{"qty":"x"}`, wantStatus: 400,
			want: errorDetail{Code: "bad_request", Field: "qty", Message: "must be an integer, not JSON string"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := newBFF()
			var got string
			tt.register(b, &got)
			rec := serve(t, b, newRequest("POST", tt.target, tt.body, "Content-Type: application/json"))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got != tt.wantGot {
				t.Errorf("function saw %q, want %q", got, tt.wantGot)
			}
			if tt.wantStatus != 200 {
				if e := errorOf(t, rec); e != tt.want {
					t.Errorf("error = %+v, want %+v", e, tt.want)
				}
			}
		})
	}
}

// endless is a body that never ends, and counts what was read of it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestDecodeBodyIsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		max  int64 // BFF.MaxBodyBytes
		want int64 // the bound in force
	}{
		{"default", 0, bff.DefaultMaxBodyBytes},
		{"negative means the default", -1, bff.DefaultMaxBodyBytes},
		{"set", 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _ := newBFF()
			b.MaxBodyBytes = tt.max
			bff.Handle(b, "POST /orders", func(_ context.Context, in order) (string, error) {
				return "ok", nil
			})
			// A value first, then blanks without end: only the bound stops it.
			body := &endless{}
			r := httptest.NewRequest("POST", "/orders", io.MultiReader(strings.NewReader(`{"qty":1}`), body))
			r.Header.Set("Content-Type", "application/json")
			rec := serve(t, b, r)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413; body: %s", rec.Code, rec.Body)
			}
			if want := fmt.Sprintf("body is larger than %d bytes", tt.want); errorOf(t, rec).Message != want {
				t.Errorf("message %q, want %q", errorOf(t, rec).Message, want)
			}
			if read := int64(len(`{"qty":1}`)) + body.read; read != tt.want+1 {
				t.Errorf("read %d bytes of the body, want the bound + 1 = %d", read, tt.want+1)
			}

			// Exactly the bound is accepted.
			r = httptest.NewRequest("POST", "/orders", strings.NewReader(jsonOfSize(int(tt.want))))
			r.Header.Set("Content-Type", "application/json")
			if rec := serve(t, b, r); rec.Code != http.StatusOK {
				t.Errorf("a body of exactly %d bytes: status %d, want 200; body: %s", tt.want, rec.Code, rec.Body)
			}
		})
	}
}
