package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	lambdacodec "github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/edgetest"
)

// TestEdgeOverLambdaStreamed runs the edge's end-to-end suite through the
// shell's Lambda function in its streaming mode: each request becomes a
// Function URL's event, handed to lambda.Stream around the net/http
// binding through a Runtime API that relays the streamed answer (its
// prelude, then each chunk as it arrives) to the client, as a Function URL
// whose InvokeMode is RESPONSE_STREAM does.
func TestEdgeOverLambdaStreamed(t *testing.T) {
	edgetest.Run(t, serveLambdaStreamed)
}

// serveLambdaStreamed is an edgetest.Serve: a stand-in Function URL on ln,
// and a Runtime API on another port of 127.0.0.1 from which an in-process
// lambda.Stream takes one event at a time.
func serveLambdaStreamed(ctx context.Context, ln net.Listener, sh *shell.Shell, cfg shell.EdgeConfig) error {
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	u := newStreamURL()
	api := &http.Server{Handler: u.runtimeAPI()}
	front := &http.Server{Handler: u}
	go api.Serve(apiLn)
	served := make(chan error, 1)
	go func() { served <- front.Serve(ln) }()
	fctx, stop := context.WithCancel(context.Background())
	streamed := make(chan error, 1)
	go func() {
		streamed <- lambdacodec.Stream(fctx, apiLn.Addr().String(), nethttp.New(sh, cfg), lambdacodec.Options{Log: sh.Log()})
	}()
	select {
	case err = <-served:
	case err = <-streamed:
		err = errors.Join(errors.New("the function stopped"), err)
	case <-ctx.Done():
	}
	front.Shutdown(context.Background())
	stop()
	api.Close()
	if e := <-served; err == nil && !errors.Is(e, http.ErrServerClosed) {
		err = e
	}
	return err
}

// streamURL is a Function URL in front of a streaming function.
type streamURL struct {
	events chan *streamCall
	mu     sync.Mutex
	n      int
	calls  map[string]*streamCall // by Lambda request id
}

func newStreamURL() *streamURL {
	return &streamURL{events: make(chan *streamCall), calls: map[string]*streamCall{}}
}

// streamCall is one request waiting for the function's answer.
type streamCall struct {
	event   []byte
	w       http.ResponseWriter
	aborted bool // the function failed after its answer began
	done    chan struct{}
}

func (u *streamURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, lambdacodec.MaxPayloadBytes+1))
	if err != nil || len(body) > lambdacodec.MaxPayloadBytes {
		bff.WriteError(w, &bff.Error{Code: bff.CodePayloadTooLarge, Message: "the request is over Lambda's payload limit"})
		return
	}
	event, err := lambdacodec.NewEvent(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	c := &streamCall{event: event, w: w, done: make(chan struct{})}
	select {
	case u.events <- c:
	case <-r.Context().Done():
		return
	}
	<-c.done
	if c.aborted {
		panic(http.ErrAbortHandler)
	}
}

// runtimeAPI serves the Runtime API's invocation endpoints as AWS
// documents them.
func (u *streamURL) runtimeAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		var c *streamCall
		select {
		case c = <-u.events:
		case <-r.Context().Done():
			return
		}
		u.mu.Lock()
		u.n++
		id := "req-" + strconv.Itoa(u.n)
		u.calls[id] = c
		u.mu.Unlock()
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:shell")
		w.Write(c.event)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{what}", func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		c := u.calls[r.PathValue("id")]
		delete(u.calls, r.PathValue("id"))
		u.mu.Unlock()
		if c == nil {
			http.Error(w, "no such invocation", http.StatusBadRequest)
			return
		}
		defer close(c.done)
		if r.PathValue("what") != "response" {
			io.Copy(io.Discard, r.Body)
			http.Error(c.w, "Internal Server Error", http.StatusBadGateway)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		c.aborted = relay(c.w, r)
		w.WriteHeader(http.StatusAccepted)
	})
	return mux
}

// relay writes a streamed answer to w as it arrives: the prelude's status,
// headers and cookies, then the body, flushing each piece. It reports
// whether the answer failed once begun (the error trailers), or could not
// be read.
func relay(w http.ResponseWriter, r *http.Request) (aborted bool) {
	br := bufio.NewReader(r.Body)
	var prelude []byte
	for !bytes.HasSuffix(prelude, make([]byte, 8)) {
		b, err := br.ReadByte()
		if err != nil {
			return true
		}
		prelude = append(prelude, b)
	}
	var p struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Cookies    []string          `json:"cookies"`
	}
	if json.Unmarshal(prelude[:len(prelude)-8], &p) != nil {
		return true
	}
	for k, v := range p.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range p.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	w.WriteHeader(p.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			rc.Flush()
		}
		if err == io.EOF {
			return r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != ""
		}
		if err != nil {
			return true
		}
	}
}
