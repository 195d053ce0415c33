package bff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// validator is implemented by inputs that check themselves after decoding.
type validator interface{ Validate() error }

// decode fills an In from r: the JSON body first, then tagged fields.
func decode[In any](r *http.Request, maxBody int64) (In, error) {
	var in In
	if err := decodeBody(r, &in, maxBody); err != nil {
		return in, err
	}
	if err := decodeTagged(r, reflect.ValueOf(&in).Elem()); err != nil {
		return in, err
	}
	if v, ok := any(&in).(validator); ok {
		if err := v.Validate(); err != nil {
			return in, asBadRequest(err)
		}
	} else if v, ok := any(in).(validator); ok {
		if err := v.Validate(); err != nil {
			return in, asBadRequest(err)
		}
	}
	return in, nil
}

func asBadRequest(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusBadRequest, Message: err.Error()}
}

// decodeBody decodes a JSON body into dst as it streams in, holding no more
// than max+1 bytes of it. An empty body leaves dst as it is; a body that is
// not application/json is refused before it is parsed.
func decodeBody(r *http.Request, dst any, max int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body := &bodyReader{r: http.MaxBytesReader(nil, r.Body, max)}
	var first [1]byte
	if n, _ := io.ReadFull(body, first[:]); n == 0 {
		if body.err != nil {
			return body.refusal(max)
		}
		return nil // an empty body, whatever it claims to be
	}
	if err := checkJSON(r.Header.Values("Content-Type")); err != nil {
		return err
	}
	dec := json.NewDecoder(io.MultiReader(bytes.NewReader(first[:]), body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// dec.More is false before a stray '}' or ']', so read one more
		// token: only the end of the body is acceptable.
		if _, err = dec.Token(); err == nil {
			return &Error{Status: http.StatusBadRequest, Message: "body holds more than one JSON value"}
		}
	}
	switch {
	case body.err != nil:
		return body.refusal(max)
	case err == io.EOF: // a blank body, or the end after one value
		return nil
	case err != nil:
		return jsonError(err)
	}
	return nil
}

// checkJSON refuses a body whose Content-Type is not application/json
// (parameters such as charset aside): a browser sends text/plain and form
// types cross-origin without a preflight, so accepting them as JSON would
// let any site post to a BFF; and a +json suffix or a missing type is not
// what a BFF's callers send.
func checkJSON(values []string) error {
	const want = "application/json"
	switch len(values) {
	case 0:
		return &Error{Status: http.StatusUnsupportedMediaType,
			Message: "Content-Type must be " + want + "; the request has a body and no Content-Type"}
	case 1:
		if mt, _, err := mime.ParseMediaType(values[0]); err == nil && mt == want {
			return nil
		}
		return &Error{Status: http.StatusUnsupportedMediaType,
			Message: fmt.Sprintf("Content-Type must be %s, not %q", want, values[0])}
	}
	return &Error{Status: http.StatusUnsupportedMediaType,
		Message: fmt.Sprintf("Content-Type must be %s, once; the request has %d", want, len(values))}
}

// bodyReader remembers why reading the body failed, so that a failed read
// is told apart from a JSON error.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// refusal is the answer to a body that could not be read whole.
func (b *bodyReader) refusal(max int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](b.err); ok {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("body is larger than %d bytes", max)}
	}
	return &Error{Status: http.StatusBadRequest, Message: "could not read the body"}
}

// jsonError names the field a JSON body got wrong.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return BadRequest(typeErr.Field, "must be %s, not JSON %s", typeName(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return &Error{Status: http.StatusBadRequest,
			Message: fmt.Sprintf("invalid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return BadRequest(field, "unknown field")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Message: "invalid JSON: unexpected end of body"}
	}
	return &Error{Status: http.StatusBadRequest, Message: "invalid JSON: " + err.Error()}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// decodeTagged sets the fields of a struct tagged path, query, header or cookie.
func decodeTagged(r *http.Request, v reflect.Value) error {
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		var values []string
		var name string
		switch {
		case f.Tag.Get("path") != "":
			name = f.Tag.Get("path")
			if s := r.PathValue(name); s != "" {
				values = []string{s}
			}
		case f.Tag.Get("query") != "":
			name = f.Tag.Get("query")
			values = r.URL.Query()[name]
		case f.Tag.Get("header") != "":
			name = f.Tag.Get("header")
			values = r.Header.Values(name)
		case f.Tag.Get("cookie") != "":
			name = f.Tag.Get("cookie")
			if c, err := r.Cookie(name); err == nil {
				values = []string{c.Value}
			}
		default:
			continue
		}
		if len(values) == 0 {
			continue
		}
		if err := setField(v.Field(i), values); err != nil {
			return BadRequest(name, "%v", err)
		}
	}
	return nil
}

func setField(f reflect.Value, values []string) error {
	if f.Kind() == reflect.Slice {
		s := reflect.MakeSlice(f.Type(), len(values), len(values))
		for i, v := range values {
			if err := setScalar(s.Index(i), v); err != nil {
				return err
			}
		}
		f.Set(s)
		return nil
	}
	return setScalar(f, values[0])
}

func setScalar(f reflect.Value, s string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("must be true or false, not %q", s)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be an integer, not %q", s)
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a non-negative integer, not %q", s)
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a number, not %q", s)
		}
		f.SetFloat(n)
	default:
		return fmt.Errorf("field of type %s cannot be set from a request", f.Type())
	}
	return nil
}
