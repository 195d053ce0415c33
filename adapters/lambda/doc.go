// Package lambda serves a BFF inside AWS Lambda, and is the one codec
// between the BFF contract (an http.Handler) and Lambda's event JSON. It is
// the only package that imports aws-lambda-go.
//
// A Handler detects the shape of each event by itself: API Gateway HTTP API
// and Function URL (payload 2.0), API Gateway REST (payload 1.0), and ALB
// target groups with or without multi-value headers. It turns the event into
// an *http.Request, runs the BFF, and answers in the same shape:
//
//   - cookies travel in the v2 cookies list, in multiValueHeaders for v1 and
//     ALB, one Set-Cookie per value, never merged or split; a Function URL
//     that also sends them in headers.cookie gives the BFF each one once;
//   - an HTTP API's rawPath, which arrives already percent-decoded, gives
//     the decoded path (a bare '%' or '?' included), with a correct
//     EscapedPath; a Function URL's escaped rawPath is kept as sent;
//   - a header value with commas (User-Agent, signatures) is kept whole;
//   - bodies flagged base64 are decoded, and binary responses are base64
//     encoded;
//   - the API Gateway stage of a default endpoint, and Options.BasePath,
//     are stripped from the path;
//   - the client's IPv4 or IPv6 address becomes Request.RemoteAddr, and the
//     Host header becomes Request.Host, as net/http does;
//   - an answer to HEAD has no body, and the Content-Length of the body a
//     GET gets when the BFF set none, as net/http does;
//   - an ALB health check (User-Agent ELB-HealthChecker/…) is answered 200
//     without running the BFF;
//   - the function's ctx carries the Lambda request id, deadline and
//     function ARN (see FromContext).
//
// Serve runs any http.Handler (a BFF, or the shell itself) inside Lambda in
// one of two modes that COLLAGE_INVOKE_MODE names. Buffered, the default,
// answers every shape above in one payload (Flush only commits the status).
// RESPONSE_STREAM, for a Function URL with that InvokeMode, streams: Stream
// speaks the Runtime API's streaming protocol itself (the
// Lambda-Runtime-Function-Response-Mode header, chunked transfer, a JSON
// prelude with status, headers and cookies ended by eight NUL bytes, error
// trailers after a failure mid-answer), and each Flush of the handler
// leaves as one chunk, so a page's head reaches the client before a slow
// slot is written.
//
// The same package encodes the other direction for callers that invoke a
// BFF with the Lambda Invoke API: NewEvent makes the payload-2.0 event a
// Function URL would send, and ReadResponse reads the answer back;
// InvokeCodec is the two as one value, which cmd/collage hands to the
// shell's Lambda invoker.
//
// A BFF's main package is one line, the same for every BFF:
//
//	func main() { os.Exit(lambda.Main(cart.New, os.Environ())) }
//
// Main runs the BFF inside Lambda when AWS_LAMBDA_RUNTIME_API is set, and as
// a local HTTP server on $PORT otherwise. The environment is handed to it by
// main, the edge; aws-lambda-go's own runtime client also reads the
// AWS_LAMBDA_* variables Lambda sets.
package lambda
