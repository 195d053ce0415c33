package bff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/collage-dev/collage/bff"
)

// item is the Out of most test functions.
type item struct {
	ID  string `json:"id"`
	Qty int    `json:"qty"`
}

// logBuffer collects the JSON lines of a BFF's Log; slog handlers may write
// from several goroutines, so it locks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns every record logged so far, decoded.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// only returns the single record logged so far, failing if there is not
// exactly one.
func (l *logBuffer) only(t *testing.T) map[string]any {
	t.Helper()
	lines := l.lines(t)
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want 1: %v", len(lines), lines)
	}
	return lines[0]
}

// newBFF returns a BFF named "cart" whose Log writes JSON to the returned
// buffer, so no test writes to slog.Default.
func newBFF() (*bff.BFF, *logBuffer) {
	logs := &logBuffer{}
	b := bff.New("cart")
	b.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return b, logs
}

func serve(t testing.TB, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// errorDetail mirrors the JSON shape of every BFF error.
type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// errorOf decodes an error response strictly, so an extra or missing key fails.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) errorDetail {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error *errorDetail `json:"error"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error == nil {
		t.Fatalf("body %q is not a BFF error: %v", rec.Body.String(), err)
	}
	return *body.Error
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := bff.New("cart").Name(); got != "cart" {
		t.Errorf("Name() = %q, want cart", got)
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	newRouter := func() *bff.BFF {
		b, _ := newBFF()
		bff.Handle(b, "GET /items", func(context.Context, struct{}) ([]item, error) {
			return []item{{ID: "a", Qty: 1}}, nil
		})
		bff.Handle(b, "POST /items", func(context.Context, struct{}) (string, error) {
			return "added", nil
		})
		bff.Handle(b, "GET /items/{id}", func(_ context.Context, in struct {
			ID string `path:"id"`
		}) (item, error) {
			return item{ID: in.ID}, nil
		})
		bff.Handle(b, "DELETE /items/{id}", func(_ context.Context, in struct {
			ID string `path:"id"`
		}) (string, error) {
			return "deleted " + in.ID, nil
		})
		return b
	}
	tests := []struct {
		name         string
		method, path string
		wantStatus   int
		wantBody     string      // for a success, the exact body
		wantErr      errorDetail // for a failure
		wantAllow    string
		wantLocation string
	}{
		{name: "list", method: "GET", path: "/items", wantStatus: 200, wantBody: `[{"id":"a","qty":1}]`},
		{name: "same path other method", method: "POST", path: "/items", wantStatus: 200, wantBody: `"added"`},
		{name: "path pattern", method: "GET", path: "/items/42", wantStatus: 200, wantBody: `{"id":"42","qty":0}`},
		{name: "escaped path value", method: "GET", path: "/items/a%2Fb", wantStatus: 200, wantBody: `{"id":"a/b","qty":0}`},
		{name: "delete", method: "DELETE", path: "/items/7", wantStatus: 200, wantBody: `"deleted 7"`},
		{name: "HEAD answered by GET", method: "HEAD", path: "/items/7", wantStatus: 200, wantBody: `{"id":"7","qty":0}`},
		{
			name: "unknown path", method: "GET", path: "/nope", wantStatus: 404,
			wantErr: errorDetail{Code: "not_found", Message: "no function for GET /nope"},
		},
		{
			name: "unknown subpath", method: "GET", path: "/items/7/reviews", wantStatus: 404,
			wantErr: errorDetail{Code: "not_found", Message: "no function for GET /items/7/reviews"},
		},
		{
			name: "wrong method on collection", method: "PUT", path: "/items", wantStatus: 405,
			wantErr:   errorDetail{Code: "method_not_allowed", Message: "no function for PUT /items"},
			wantAllow: "GET, HEAD, POST",
		},
		{
			name: "wrong method on item", method: "PATCH", path: "/items/7", wantStatus: 405,
			wantErr:   errorDetail{Code: "method_not_allowed", Message: "no function for PATCH /items/7"},
			wantAllow: "DELETE, GET, HEAD",
		},
		{
			// The mux redirects an unclean path to its clean form before
			// matching; the redirect must say where to, even when the clean
			// path has no function either.
			name: "unclean path matching nothing", method: "GET", path: "/x/../nope?a=1", wantStatus: 307,
			wantErr:      errorDetail{Code: "temporary_redirect", Message: "no function for GET /x/../nope"},
			wantLocation: "/nope?a=1",
		},
		{
			name: "unclean path matching a function", method: "GET", path: "/items//7", wantStatus: 307,
			wantLocation: "/items/7",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, newRouter(), httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			switch {
			case tt.wantBody != "":
				if got := rec.Body.String(); got != tt.wantBody {
					t.Errorf("body = %s, want %s", got, tt.wantBody)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q, want application/json", ct)
				}
			case tt.wantErr != errorDetail{}:
				if got := errorOf(t, rec); got != tt.wantErr {
					t.Errorf("error = %+v, want %+v", got, tt.wantErr)
				}
			}
		})
	}
}

// unencodable has no JSON form.
type unencodable struct{ F float64 }

func TestOutputs(t *testing.T) {
	t.Parallel()
	png := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff, 0xfe, 0x80}
	tests := []struct {
		name         string
		register     func(b *bff.BFF) // registers GET /out
		wantStatus   int
		wantType     string
		wantBody     []byte
		wantLocation string
		wantLog      string // the msg of the one line logged, or "" for none
		wantLogErr   string // the err attribute of that line
	}{
		{
			name: "JSON",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (item, error) {
					return item{ID: "sku-1", Qty: 2}, nil
				})
			},
			wantStatus: 200, wantType: "application/json", wantBody: []byte(`{"id":"sku-1","qty":2}`),
		},
		{
			name: "SetStatus",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(ctx context.Context, _ struct{}) (item, error) {
					bff.SetStatus(ctx, http.StatusCreated)
					return item{ID: "new"}, nil
				})
			},
			wantStatus: 201, wantType: "application/json", wantBody: []byte(`{"id":"new","qty":0}`),
		},
		{
			name: "Blob keeps binary bytes",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (bff.Blob, error) {
					return bff.Blob{ContentType: "image/png", Data: png}, nil
				})
			},
			wantStatus: 200, wantType: "image/png", wantBody: png,
		},
		{
			name: "Blob with SetStatus",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(ctx context.Context, _ struct{}) (bff.Blob, error) {
					bff.SetStatus(ctx, http.StatusAccepted)
					return bff.Blob{ContentType: "text/csv; charset=utf-8", Data: []byte("id,qty\na,1\n")}, nil
				})
			},
			wantStatus: 202, wantType: "text/csv; charset=utf-8", wantBody: []byte("id,qty\na,1\n"),
		},
		{
			name: "Redirect",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (item, error) {
					return item{}, bff.Redirect(http.StatusSeeOther, "/login?next=%2Fcart")
				})
			},
			wantStatus: 303, wantType: "application/json", wantLocation: "/login?next=%2Fcart",
			wantBody: []byte(`{"error":{"code":"see_other","message":"redirect"}}`),
		},
		{
			name: "plain error hides its detail",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (item, error) {
					return item{}, errors.New("dial tcp 10.0.0.7:5432: password authentication failed")
				})
			},
			wantStatus: 500, wantType: "application/json",
			wantBody: []byte(`{"error":{"code":"internal_server_error","message":"internal error"}}`),
			wantLog:  "bff function failed", wantLogErr: "dial tcp 10.0.0.7:5432: password authentication failed",
		},
		{
			name: "*Error",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (item, error) {
					return item{}, bff.Errorf(http.StatusConflict, "only %d left", 3)
				})
			},
			wantStatus: 409, wantType: "application/json",
			wantBody: []byte(`{"error":{"code":"conflict","message":"only 3 left"}}`),
		},
		{
			name: "*Error with code and field",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (item, error) {
					return item{}, &bff.Error{Status: 422, Code: "out_of_stock", Message: "sold out", Field: "qty"}
				})
			},
			wantStatus: 422, wantType: "application/json",
			wantBody: []byte(`{"error":{"code":"out_of_stock","message":"sold out","field":"qty"}}`),
		},
		{
			name: "wrapped *Error",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (item, error) {
					return item{}, fmt.Errorf("load item: %w", bff.NotFound("no item %q", "x<y"))
				})
			},
			wantStatus: 404, wantType: "application/json",
			wantBody: []byte(`{"error":{"code":"not_found","message":"no item \"x\u003cy\""}}`),
		},
		{
			name: "error overrides SetStatus",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(ctx context.Context, _ struct{}) (item, error) {
					bff.SetStatus(ctx, http.StatusCreated)
					return item{}, bff.NotFound("gone")
				})
			},
			wantStatus: 404, wantType: "application/json",
			wantBody: []byte(`{"error":{"code":"not_found","message":"gone"}}`),
		},
		{
			name: "Out that does not encode",
			register: func(b *bff.BFF) {
				bff.Handle(b, "GET /out", func(context.Context, struct{}) (unencodable, error) {
					return unencodable{F: math.Inf(1)}, nil
				})
			},
			wantStatus: 500, wantType: "application/json",
			wantBody: []byte(`{"error":{"code":"internal_server_error","message":"internal error"}}`),
			wantLog:  "bff function failed", wantLogErr: "encode response: json: unsupported value: +Inf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, logs := newBFF()
			tt.register(b)
			rec := serve(t, b, httptest.NewRequest("GET", "/out?x=1", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			if got := rec.Body.Bytes(); !bytes.Equal(got, tt.wantBody) {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			if tt.wantLog == "" {
				if lines := logs.lines(t); len(lines) != 0 {
					t.Errorf("logged %v, want nothing", lines)
				}
				return
			}
			line := logs.only(t)
			want := map[string]any{
				"level": "ERROR", "msg": tt.wantLog, "err": tt.wantLogErr,
				"bff": "cart", "method": "GET", "path": "/out",
			}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
		})
	}
}

func TestInvalidStatus(t *testing.T) {
	t.Parallel()
	// An *Error without a Status, or a SetStatus out of range, is a bug in the
	// function: it must be a 500 and a log line, never an empty 200.
	tests := []struct {
		name     string
		fn       func(ctx context.Context, _ struct{}) (item, error)
		wantLogs string
	}{
		{
			name: "*Error without Status",
			fn: func(context.Context, struct{}) (item, error) {
				return item{}, &bff.Error{Code: "out_of_stock", Message: "sold out"}
			},
			wantLogs: "invalid WriteHeader code 0",
		},
		{
			name: "SetStatus out of range",
			fn: func(ctx context.Context, _ struct{}) (item, error) {
				bff.SetStatus(ctx, 42)
				return item{ID: "a"}, nil
			},
			wantLogs: "invalid WriteHeader code 42",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, logs := newBFF()
			bff.Handle(b, "GET /out", tt.fn)
			rec := serve(t, b, httptest.NewRequest("GET", "/out", nil))
			if rec.Code != 500 {
				t.Errorf("status = %d, want 500", rec.Code)
			}
			want := errorDetail{Code: "internal_server_error", Message: "internal error"}
			if got := errorOf(t, rec); got != want {
				t.Errorf("error = %+v, want %+v", got, want)
			}
			if got := logs.only(t)["panic"]; got != tt.wantLogs {
				t.Errorf("logged panic %q, want %q", got, tt.wantLogs)
			}
		})
	}
}

func TestPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		value     any
		wantPanic string
	}{
		{name: "string", value: "boom 42", wantPanic: "boom 42"},
		{name: "error", value: fmt.Errorf("nil map in %s", "cart"), wantPanic: "nil map in cart"},
		{name: "int", value: 7, wantPanic: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, logs := newBFF()
			bff.Handle(b, "POST /explode", func(ctx context.Context, _ struct{}) (item, error) {
				panic(tt.value)
			})
			bff.Handle(b, "GET /items/{id}", func(_ context.Context, in struct {
				ID string `path:"id"`
			}) (item, error) {
				return item{ID: in.ID, Qty: 1}, nil
			})

			rec := serve(t, b, httptest.NewRequest("POST", "/explode", nil))
			if rec.Code != 500 {
				t.Errorf("status = %d, want 500", rec.Code)
			}
			want := errorDetail{Code: "internal_server_error", Message: "internal error"}
			if got := errorOf(t, rec); got != want {
				t.Errorf("error = %+v, want %+v", got, want)
			}
			line := logs.only(t)
			for k, v := range map[string]any{
				"level": "ERROR", "msg": "bff function panicked", "panic": tt.wantPanic,
				"bff": "cart", "method": "POST", "path": "/explode",
			} {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
			if stack, _ := line["stack"].(string); !strings.Contains(stack, "bff_test.TestPanic") {
				t.Errorf("logged stack does not show the panicking function:\n%s", stack)
			}

			// The handler keeps serving.
			rec = serve(t, b, httptest.NewRequest("GET", "/items/9", nil))
			if rec.Code != 200 || rec.Body.String() != `{"id":"9","qty":1}` {
				t.Errorf("after a panic: %d %s, want 200 {\"id\":\"9\",\"qty\":1}", rec.Code, rec.Body)
			}
		})
	}
}

// BenchmarkHandleJSON measures the runtime around a typed function called
// in-process: routing, decoding a small JSON body and encoding the result.
func BenchmarkHandleJSON(b *testing.B) {
	type addItem struct {
		ProductID string `json:"product_id"`
		Qty       int    `json:"qty"`
	}
	type cart struct {
		Items []item `json:"items"`
		Total int    `json:"total"`
	}
	h := bff.New("cart")
	bff.Handle(h, "POST /items", func(_ context.Context, in addItem) (cart, error) {
		return cart{Items: []item{{ID: in.ProductID, Qty: in.Qty}}, Total: in.Qty}, nil
	})
	body := []byte(`{"product_id":"sku-1","qty":2}`)
	rd := bytes.NewReader(body)
	req := httptest.NewRequest("POST", "/items", rd)
	req.Header.Set("Content-Type", "application/json")
	w := &discardWriter{header: http.Header{}}
	for b.Loop() {
		rd.Reset(body)
		clear(w.header)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
	}
	if w.status != 200 || w.n != len(`{"items":[{"id":"sku-1","qty":2}],"total":2}`) {
		b.Fatalf("last response: status %d, %d bytes", w.status, w.n)
	}
}

// discardWriter is a ResponseWriter that keeps only the status and length,
// so the benchmark measures the BFF rather than a recorder.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	w.status = code
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(p)
	return len(p), nil
}
