package awssdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/collage-dev/collage/bff"
	"github.com/collage-dev/collage/shell/invoke"
)

// Scheme starts a bff: value that names a Lambda function.
const Scheme = "lambda://"

// MaxPayloadBytes is the Lambda Invoke API's limit on a synchronous
// invocation's payload.
const MaxPayloadBytes = 6 << 20

// Codec is the event format a BFF on Lambda understands: the payload a
// Function URL sends for a request, and the function's answer. It comes
// with the BFF's Lambda runtime, which the invoker does not link;
// cmd/collage hands it over.
type Codec interface {
	// Encode returns the event a Function URL would send for req, whose
	// body the invoker has read into body.
	Encode(req *http.Request, body []byte) ([]byte, error)
	// Decode reads the function's answer to req. An error means the
	// function answered something that is not an HTTP response, such as
	// the error payload of a function that failed.
	Decode(payload []byte, req *http.Request) (*http.Response, error)
}

// Options tune an Invoker.
type Options struct {
	// Region overrides the region of the AWS configuration.
	// Optional. Default: the standard configuration's (AWS_REGION, profile).
	Region string
	// Endpoint overrides the Lambda endpoint, such as the emulator's
	// http://127.0.0.1:9000. Optional. Default: the standard
	// configuration's (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, or AWS).
	Endpoint string
	// MaxAttempts is how many times one call is tried. A slot has its own
	// deadline and fallback, so retrying inside it mostly burns the
	// deadline. Optional. Default: 1.
	MaxAttempts int
	// IdleConns is how many keep-alive connections to the endpoint are
	// pooled. Optional. Default: 128.
	IdleConns int
	// Log receives a line per failed call. Optional. Default: slog.Default().
	Log *slog.Logger
}

// Invoker sends requests to one Lambda function. It is safe for
// concurrent use.
type Invoker struct {
	codec     Codec
	client    *lambda.Client
	function  string
	qualifier string
	log       *slog.Logger
}

// ParseTarget splits lambda://FUNCTION[:QUALIFIER] into the function (a
// name or an ARN) and the qualifier (a version or alias, or "").
func ParseTarget(target string) (function, qualifier string, err error) {
	rest, ok := strings.CutPrefix(target, Scheme)
	if !ok || rest == "" {
		return "", "", fmt.Errorf("bff %q: write lambda://FUNCTION or lambda://FUNCTION:QUALIFIER", target)
	}
	if strings.HasPrefix(rest, "arn:") {
		// arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
		parts := strings.Split(rest, ":")
		if len(parts) == 8 {
			return strings.Join(parts[:7], ":"), parts[7], nil
		}
		if len(parts) == 7 {
			return rest, "", nil
		}
		return "", "", fmt.Errorf("bff %q: %q is not a Lambda function ARN", target, rest)
	}
	function, qualifier, _ = strings.Cut(rest, ":")
	if function == "" || strings.ContainsAny(function, "/ ") || strings.Contains(qualifier, ":") {
		return "", "", fmt.Errorf("bff %q: write lambda://FUNCTION or lambda://FUNCTION:QUALIFIER", target)
	}
	return function, qualifier, nil
}

// New returns an Invoker for target, lambda://FUNCTION[:QUALIFIER], that
// speaks codec, with the standard AWS configuration. It makes no network
// call.
func New(ctx context.Context, target string, codec Codec, opts Options) (*Invoker, error) {
	function, qualifier, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if codec == nil {
		return nil, fmt.Errorf("bff %q: no event codec", target)
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 1
	}
	if opts.IdleConns == 0 {
		opts.IdleConns = 128
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = opts.IdleConns * 2
		t.MaxIdleConnsPerHost = opts.IdleConns
	})
	load := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient)}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("bff %q: loading the AWS configuration: %w", target, err)
	}
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		o.RetryMaxAttempts = opts.MaxAttempts
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})
	return &Invoker{codec: codec, client: client, function: function, qualifier: qualifier, log: opts.Log}, nil
}

// RoundTrip invokes the function with req as the codec's event and
// returns its answer. Errors reaching Lambda are returned as errors; a
// function that fails or is throttled is a 502 or 503 response.
func (i *Invoker) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, MaxPayloadBytes+1))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("lambda invoke %s: reading the request body: %w", i.function, err)
		}
	}
	if len(body) > MaxPayloadBytes {
		return tooLarge(req), nil
	}
	payload, err := i.codec.Encode(req, body)
	if err != nil {
		return nil, fmt.Errorf("lambda invoke %s: encoding the request: %w", i.function, err)
	}
	if len(payload) > MaxPayloadBytes { // a body near the limit, once in base64
		return tooLarge(req), nil
	}
	in := &lambda.InvokeInput{FunctionName: &i.function, Payload: payload, InvocationType: types.InvocationTypeRequestResponse}
	if i.qualifier != "" {
		in.Qualifier = &i.qualifier
	}
	out, err := i.client.Invoke(req.Context(), in)
	if err != nil {
		var throttled *types.TooManyRequestsException
		if errors.As(err, &throttled) {
			retry := "1"
			if s := aws.ToString(throttled.RetryAfterSeconds); s != "" {
				if _, perr := strconv.Atoi(s); perr == nil {
					retry = s
				}
			}
			i.log.Warn("lambda throttled", "function", i.function, "lambda_request_id", errRequestID(err),
				"request_id", req.Header.Get("X-Request-Id"), "reason", string(throttled.Reason))
			resp := answer(req, &bff.Error{Code: bff.CodeThrottled, Message: "the BFF is busy; try again shortly"})
			resp.Header.Set("Retry-After", retry)
			return resp, nil
		}
		return nil, fmt.Errorf("lambda invoke %s: %w", i.function, err)
	}
	lambdaID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if out.FunctionError != nil {
		i.logFunctionError(req, lambdaID, aws.ToString(out.FunctionError), out.Payload)
		return answer(req, &bff.Error{Code: bff.CodeBadGateway, Message: "the BFF failed"}), nil
	}
	resp, err := i.codec.Decode(out.Payload, req)
	if err != nil {
		// The emulator answers a failed function with an error payload
		// and no FunctionError; the codec tells it apart.
		i.logFunctionError(req, lambdaID, err.Error(), out.Payload)
		return answer(req, &bff.Error{Code: bff.CodeBadGateway, Message: "the BFF failed"}), nil
	}
	return resp, nil
}

func (i *Invoker) logFunctionError(req *http.Request, lambdaID, kind string, payload []byte) {
	if len(payload) > 1024 {
		payload = payload[:1024]
	}
	i.log.Error("lambda function failed", "function", i.function, "lambda_request_id", lambdaID,
		"request_id", req.Header.Get("X-Request-Id"), "path", req.URL.Path, "error", kind, "payload", string(payload))
}

// errRequestID is the Lambda request id of a failed call, if AWS gave one.
func errRequestID(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// tooLarge answers a request that Lambda would refuse, without invoking.
func tooLarge(req *http.Request) *http.Response {
	return answer(req, &bff.Error{Code: bff.CodePayloadTooLarge,
		Message: fmt.Sprintf("the request is over Lambda's %d MB limit", MaxPayloadBytes>>20)})
}

// answer is a response the invoker makes itself: e in a BFF's JSON error
// shape.
func answer(req *http.Request, e *bff.Error) *http.Response {
	return invoke.NewResponse(req, e.StatusCode(), http.Header{"Content-Type": {"application/json"}}, e.JSON())
}

var _ invoke.Invoker = (*Invoker)(nil)
