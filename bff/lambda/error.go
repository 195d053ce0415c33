package lambda

// Codes of the errors this package returns.
const (
	// CodeUnknownEvent: the payload is not an event shape a Handler knows.
	CodeUnknownEvent = "unknown_event"
	// CodeBadRequest: the event is a request, but a malformed one (a body
	// flagged base64 that is not, a path that is not a path).
	CodeBadRequest = "bad_request"
	// CodeTooLarge: an answer is over Lambda's payload limit.
	CodeTooLarge = "payload_too_large"
	// CodeFunctionError: the function failed instead of answering.
	CodeFunctionError = "function_error"
	// CodeBadResponse: the function answered something that is not a
	// payload-2.0 response.
	CodeBadResponse = "bad_response"
)

// Error is a failure of the codec, with a code and a message for people.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return "lambda: " + e.Code + ": " + e.Msg }

// MaxPayloadBytes is Lambda's limit on a synchronous invocation's request
// and response payloads.
const MaxPayloadBytes = 6 << 20
