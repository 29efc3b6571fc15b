package awsjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

type decodeTag struct {
	Key   *string `json:"Key,omitzero"`
	Value *string `json:"Value,omitzero"`
}

type decodeInput struct {
	SecretId     *string           `json:"SecretId,omitzero"`
	SecretBinary []byte            `json:"SecretBinary,omitzero"`
	MaxResults   *int64            `json:"MaxResults,omitzero"`
	Force        *bool             `json:"Force,omitzero"`
	Tags         []decodeTag       `json:"Tags,omitzero"`
	Context      map[string]string `json:"Context,omitzero"`
	Rules        *struct {
		Days *int64 `json:"Days,omitzero"`
	} `json:"Rules,omitzero"`
}

func TestDecodeEmptyAndNull(t *testing.T) {
	for _, body := range []string{"", "  \n\t", "null", " null ", "{}"} {
		var in decodeInput
		if err := awsjson.Decode([]byte(body), &in); err != nil {
			t.Errorf("Decode(%q) = %v", body, err)
		}
		if in.SecretId != nil || in.Tags != nil {
			t.Errorf("Decode(%q) set fields: %+v", body, in)
		}
	}
}

func TestDecodeIgnoresUnknownMembers(t *testing.T) {
	var in decodeInput
	err := awsjson.Decode([]byte(`{"SecretId":"a","Bogus":{"x":[1,2]},"Other":null}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	if in.SecretId == nil || *in.SecretId != "a" {
		t.Errorf("SecretId = %v", in.SecretId)
	}
}

func TestDecodePresence(t *testing.T) {
	var in decodeInput
	err := awsjson.Decode([]byte(`{"SecretBinary":"","Tags":[],"Force":false,"MaxResults":0}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	if in.SecretBinary == nil || len(in.SecretBinary) != 0 {
		t.Errorf(`"SecretBinary":"" must decode as an empty, non-nil blob; got %#v`, in.SecretBinary)
	}
	if in.Tags == nil {
		t.Error(`"Tags":[] must decode as a non-nil slice`)
	}
	if in.Force == nil || *in.Force || in.MaxResults == nil || *in.MaxResults != 0 {
		t.Errorf("false/0 must be present: %+v", in)
	}
}

// secretMarker stands for a secret value a client sent; no message may
// contain it.
const secretMarker = "hunter2-SECRET"

func TestDecodeErrorsNeverEchoValues(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"truncated", `{"SecretId":"` + secretMarker, "Malformed JSON: unexpected end of input"},
		{"syntax", `{"SecretId":` + secretMarker + `}`, "Malformed JSON: syntax error at byte offset 13"},
		{"trailing data", `{"SecretId":"a"}` + secretMarker, "Malformed JSON: unexpected data after the top-level value at byte offset 17"},
		{"trailing object", `{"SecretId":"a"} {}`, "Malformed JSON: unexpected data after the top-level value at byte offset 18"},
		{"number for string", `{"SecretId":12345678}`, "Unexpected value type at 'SecretId': expected string, got number"},
		{"object for string", `{"SecretId":{"v":"` + secretMarker + `"}}`, "Unexpected value type at 'SecretId': expected string, got object"},
		{"string for integer", `{"MaxResults":"` + secretMarker + `"}`, "Unexpected value type at 'MaxResults': expected integer, got string"},
		{"fraction for integer", `{"MaxResults":1.5}`, "Invalid number at 'MaxResults': expected integer (a whole number in range)"},
		{"overflow", `{"MaxResults":123456789012345678901234567890}`, "Invalid number at 'MaxResults': expected integer (a whole number in range)"},
		{"string for boolean", `{"Force":"` + secretMarker + `"}`, "Unexpected value type at 'Force': expected boolean, got string"},
		{"number for blob", `{"SecretBinary":1}`, "Unexpected value type at 'SecretBinary': expected blob (base64 string), got number"},
		{"bad base64", `{"SecretBinary":"` + secretMarker + `"}`, "Invalid base64 value in a blob member"},
		{"unpadded base64", `{"SecretBinary":"Zm9vdGVzdA"}`, "Invalid base64 value in a blob member"},
		{"object for list", `{"Tags":{"Key":"k"}}`, "Unexpected value type at 'Tags': expected list, got object"},
		{"nested member", `{"Tags":[{"Key":7}]}`, "Unexpected value type at 'Tags.Key': expected string, got number"},
		{"nested structure", `{"Rules":{"Days":"` + secretMarker + `"}}`, "Unexpected value type at 'Rules.Days': expected integer, got string"},
		{"map value", `{"Context":{"k":["` + secretMarker + `"]}}`, "Unexpected value type at 'Context': expected string, got array"},
		{"array at top", `["` + secretMarker + `"]`, "Unexpected value type at the top level: expected structure, got array"},
		{"string at top", `"` + secretMarker + `"`, "Unexpected value type at the top level: expected structure, got string"},
		{"number at top", `42`, "Unexpected value type at the top level: expected structure, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in decodeInput
			err := awsjson.Decode([]byte(tt.body), &in)
			var se *awsjson.SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("Decode error = %v, want *SerializationError", err)
			}
			if se.Message != tt.want {
				t.Errorf("message\n got %q\nwant %q", se.Message, tt.want)
			}
			if strings.Contains(se.Error(), "hunter2") || strings.Contains(se.Error(), "12345678") {
				t.Errorf("message echoes the submitted value: %q", se.Error())
			}
		})
	}
}

func TestDecodeErrorFunction(t *testing.T) {
	if got := awsjson.DecodeError(nil); got != "" {
		t.Errorf("DecodeError(nil) = %q", got)
	}
	var v decodeInput
	err := json.Unmarshal([]byte(`{"SecretId":true}`), &v)
	if got, want := awsjson.DecodeError(err), "Unexpected value type at 'SecretId': expected string, got boolean"; got != want {
		t.Errorf("DecodeError = %q, want %q", got, want)
	}
	if got := awsjson.DecodeError(errors.New("json: " + secretMarker)); strings.Contains(got, secretMarker) {
		t.Errorf("DecodeError echoes an unknown error's text: %q", got)
	}
}
