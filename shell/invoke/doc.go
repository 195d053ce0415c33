// Package invoke reaches a frontend's BFF. An Invoker is the same interface
// whatever the transport: in-process (Local), over HTTP (HTTP), or AWS
// Lambda Invoke (in its own adapter package). The shell sends fragment
// requests and /bff/NAME/* calls through it as plain *http.Request values
// whose URL holds the path and query the BFF sees.
package invoke

import "net/http"

// An Invoker sends one request to a BFF and returns its response. It has the
// shape of http.RoundTripper, so an http.Transport-based client fits.
type Invoker interface {
	RoundTrip(*http.Request) (*http.Response, error)
}
