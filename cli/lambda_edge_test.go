package cli

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"

	lambdacodec "github.com/collage-dev/collage/adapters/lambda"
	"github.com/collage-dev/collage/adapters/nethttp"
	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell"
	"github.com/collage-dev/collage/shell/edgetest"
)

// TestEdgeOverLambda runs the edge's end-to-end suite through the shell's
// Lambda function in its buffered mode: every request of the suite is
// encoded as the payload-2.0 event a Function URL sends, answered by the
// Lambda codec around the net/http binding, as lambda-shell wires them, and
// the answer decoded back to the client.
func TestEdgeOverLambda(t *testing.T) {
	edgetest.RunSkipping(t, serveLambda, map[string]string{
		"BFFAnswerBound":  "a /bff answer cut at its bound fails the invocation, so a buffered function answers 502, not the bytes up to the bound",
		"SlowPageStreams": "a buffered Lambda answer is whole, never chunked; the streamed mode is TestShellOnLambda's",
	})
}

// serveLambda is an edgetest.Serve: on ln, a stand-in for a Function URL
// that invokes the shell's function in-process, one event per request.
func serveLambda(ctx context.Context, ln net.Listener, sh *shell.Shell, cfg shell.EdgeConfig) error {
	fn := lambdacodec.NewHandler(nethttp.New(sh, cfg), lambdacodec.Options{Log: sh.Log()})
	srv := &http.Server{Handler: functionURL{fn.Invoke}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	err := srv.Shutdown(context.Background())
	if e := <-served; !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}

// functionURL does what a Function URL does in front of a buffered
// function: it reads the whole request, refuses one over Lambda's payload
// limit, invokes the function with the event, and answers a failed
// invocation 502.
type functionURL struct {
	invoke func(ctx context.Context, event []byte) ([]byte, error)
}

func (f functionURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	out, err := f.invoke(r.Context(), event)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusBadGateway)
		return
	}
	resp, err := lambdacodec.ReadResponse(out, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
