package awsjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
)

// SerializationError is a request body that could not be decoded. Message is
// safe to return to the client as a SerializationException: it never
// contains any part of the submitted body.
type SerializationError struct {
	Message string
}

func (e *SerializationError) Error() string { return e.Message }

// Decode decodes an awsJson1_1 request body into v (a pointer to a generated
// input struct). An empty or all-whitespace body and a top-level null decode
// as {}; unknown members are ignored, as AWS ignores them. Any failure is a
// *SerializationError.
//
// Like encoding/json, Decode matches member names case-insensitively when no
// exact match exists; AWS matches them exactly.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &SerializationError{Message: DecodeError(err)}
	}
	return nil
}

// DecodeError turns an encoding/json error into a clear message for a
// SerializationException. It never includes the offending value (it could be
// a secret), only its JSON kind, the expected type and, when encoding/json
// knows it, the member path in model names ("Tags.Key").
func DecodeError(err error) string {
	var (
		serr    *SerializationError
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
		b64     base64.CorruptInputError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &serr):
		return serr.Message
	case errors.As(err, &syntax):
		// encoding/json's own text can quote the offending character.
		switch {
		case strings.Contains(syntax.Error(), "unexpected end of JSON input"):
			return "Malformed JSON: unexpected end of input"
		case strings.Contains(syntax.Error(), "after top-level value"):
			return "Malformed JSON: unexpected data after the top-level value at byte offset " +
				strconv.FormatInt(syntax.Offset, 10)
		default:
			return "Malformed JSON: syntax error at byte offset " + strconv.FormatInt(syntax.Offset, 10)
		}
	case errors.As(err, &typeErr):
		return typeError(typeErr)
	case errors.As(err, &b64):
		return "Invalid base64 value in a blob member"
	default:
		return "The request body could not be decoded"
	}
}

func typeError(e *json.UnmarshalTypeError) string {
	at := "at the top level"
	if e.Field != "" {
		at = "at '" + e.Field + "'"
	}
	got, _, _ := strings.Cut(e.Value, " ") // "number 1e999" -> "number": never echo the literal
	want := wireType(e.Type)
	if e.Type == timeType {
		switch got {
		case "number":
			return "Invalid timestamp " + at + ": expected epoch seconds between years 1 and 9999"
		case "string":
			return "Invalid timestamp " + at + ": expected epoch seconds as a number (or an RFC 3339 string)"
		}
	}
	if got == "number" && want == "integer" {
		return "Invalid number " + at + ": expected " + want + " (a whole number in range)"
	}
	return "Unexpected value type " + at + ": expected " + want + ", got " + jsonKind(got)
}

// jsonKind names a JSON kind as encoding/json reports it.
func jsonKind(v string) string {
	switch v {
	case "string", "number", "array", "object":
		return v
	case "bool":
		return "boolean"
	default:
		return "a value of another type"
	}
}

// wireType names the model type behind a Go type used by generated code.
func wireType(t reflect.Type) string {
	if t == nil {
		return "a value of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "timestamp"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "double"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "blob (base64 string)"
		}
		return "list"
	case reflect.Map:
		return "map"
	case reflect.Struct:
		return "structure"
	default:
		return t.Kind().String()
	}
}
