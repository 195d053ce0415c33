package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RuntimeAPI is a fake of the Lambda Runtime API's invocation endpoints,
// for what the emulator cannot do: it takes a streamed answer as the
// Runtime API documents it (chunked, with trailers) and records when each
// piece of it arrives. Each GET …/invocation/next hands out the next event
// given to Invoke, or waits until the test ends.
type RuntimeAPI struct {
	srv    *httptest.Server
	events chan []byte
	posts  chan *Answer
	mu     sync.Mutex
	n      int
	sent   map[string]time.Time // when each event left
}

// Answer is one POST a function made to the RuntimeAPI.
type Answer struct {
	Path    string      // after /2018-06-01/runtime/invocation/: ID/response or ID/error
	Sent    time.Time   // when the function got the event
	Header  http.Header // the request's headers
	Chunked bool        // sent with chunked transfer encoding
	Chunks  []Chunk     // the body, as it arrived
	Trailer http.Header
}

// Chunk is a piece of an answer's body, as one read got it.
type Chunk struct {
	At   time.Time
	Data []byte
}

// FirstByte is how long the first piece of the body took, from the event.
func (a *Answer) FirstByte() time.Duration {
	if len(a.Chunks) == 0 {
		return 0
	}
	return a.Chunks[0].At.Sub(a.Sent)
}

// Body is the whole body of the answer.
func (a *Answer) Body() []byte {
	var b []byte
	for _, c := range a.Chunks {
		b = append(b, c.Data...)
	}
	return b
}

// Arrived returns when the first chunk holding s arrived, and false if
// none did.
func (a *Answer) Arrived(s string) (time.Time, bool) {
	for _, c := range a.Chunks {
		if bytes.Contains(c.Data, []byte(s)) {
			return c.At, true
		}
	}
	return time.Time{}, false
}

// NewRuntimeAPI starts a RuntimeAPI on 127.0.0.1, stopped when t ends.
func NewRuntimeAPI(t testing.TB) *RuntimeAPI {
	t.Helper()
	f := &RuntimeAPI{events: make(chan []byte, 16), posts: make(chan *Answer, 16), sent: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", f.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{what}", f.post)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// Addr is the host:port a function finds in AWS_LAMBDA_RUNTIME_API.
func (f *RuntimeAPI) Addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *RuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case e := <-f.events:
		f.mu.Lock()
		f.n++
		id := "req-" + strconv.Itoa(f.n)
		f.mu.Unlock()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:function")
		w.Write(e)
		f.mu.Lock()
		f.sent[id] = time.Now()
		f.mu.Unlock()
	case <-r.Context().Done():
	}
}

func (f *RuntimeAPI) post(w http.ResponseWriter, r *http.Request) {
	a := &Answer{Path: r.PathValue("id") + "/" + r.PathValue("what"), Header: r.Header.Clone(),
		Chunked: len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked"}
	f.mu.Lock()
	a.Sent = f.sent[r.PathValue("id")]
	f.mu.Unlock()
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			a.Chunks = append(a.Chunks, Chunk{time.Now(), bytes.Clone(buf[:n])})
		}
		if err != nil {
			break
		}
	}
	a.Trailer = r.Trailer.Clone()
	w.WriteHeader(http.StatusAccepted)
	f.posts <- a
}

// Invoke hands event to the function's next GET and returns its answer,
// failing t if none comes within timeout.
func (f *RuntimeAPI) Invoke(t testing.TB, event []byte, timeout time.Duration) *Answer {
	t.Helper()
	f.events <- event
	select {
	case a := <-f.posts:
		return a
	case <-time.After(timeout):
		t.Fatalf("the function posted no answer in %s", timeout)
		return nil
	}
}
