package awsapi_test

import (
	"bytes"
	"encoding/base64"

	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

// canary is put into every string the sweep sends; for sensitive members
// it must never come back.
const canary = "Sw33pCanaryValue"

var sensitiveMembers = map[string]bool{"SecretString": true, "SecretBinary": true, "RotationToken": true}

// members returns the JSON member names of an operation's input.
func members(in any) []string {
	t := reflect.TypeOf(in).Elem()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// TestHostileBodies sends every Secrets Manager operation bodies of every
// wrong shape: no response may be a server fault, every response carries
// the AWS envelope (checkEnvelope), errors are the framework's client
// errors, and a sensitive value is never echoed.
func TestHostileBodies(t *testing.T) {
	e := newEdge(t)
	e.call(t, "CreateSecret", `{"Name":"sweep","ClientRequestToken":"`+t1+`","SecretString":"x"}`)
	ops := make([]string, 0, len(smapi.Operations))
	for name := range smapi.Operations {
		ops = append(ops, name)
	}
	slices.Sort(ops)
	allowed := map[string]bool{
		"SerializationException": true, "ValidationException": true, "InvalidParameterException": true,
		"InvalidRequestException": true, "ResourceNotFoundException": true, "ResourceExistsException": true,
		"InvalidNextTokenException": true, "LimitExceededException": true, "": true,
		"MalformedPolicyDocumentException": true, // Put/ValidateResourcePolicy with a document that does not parse
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(canary + canary))
	values := []string{`null`, `0`, `-1`, `1e999`, `12345678901234567890`, `1.5`, `true`, `""`, `"` + canary + `"`,
		`"` + b64 + `"`, `"arn:aws:secretsmanager:us-east-1:123456789012:secret:` + canary + `"`, `[]`, `["` + canary + `"]`,
		`[{"Key":"` + canary + `","Value":"` + canary + `","Values":["` + canary + `"]}]`, `{}`, `{"` + canary + `":"` + canary + `"}`,
		`"` + strings.Repeat("A", 70000) + `"`}
	n := 0
	for _, op := range ops {
		in := smapi.Operations[op].NewInput()
		bodies := []string{``, `{}`, `null`, `[]`, `"x"`, `1`, `{"`, `{}}`, "\x00", `{"SecretId":"sweep"}`}
		for _, m := range members(in) {
			for _, v := range values {
				bodies = append(bodies, `{"SecretId":"sweep","`+m+`":`+v+`}`, `{"`+m+`":`+v+`}`)
			}
		}
		for _, body := range bodies {
			n++
			r := e.call(t, op, body)
			if r.Status >= 500 {
				t.Errorf("%s %.200s: status %d %s", op, body, r.Status, r.Body)
				continue
			}
			typ := r.Header.Get("x-amzn-ErrorType")
			if !allowed[typ] {
				t.Errorf("%s %.200s: unexpected error type %s: %s", op, body, typ, r.Body)
			}
			for m := range sensitiveMembers {
				if strings.Contains(body, `"`+m+`"`) && r.Status != http.StatusOK &&
					(bytes.Contains(r.Body, []byte(canary)) || bytes.Contains(r.Body, []byte(b64[:16]))) {
					t.Errorf("%s %.200s: sensitive value echoed: %s", op, body, r.Body)
				}
			}
		}
	}
	if strings.Contains(e.logs.String(), canary) {
		t.Errorf("the log contains a value from a request body")
	}
	t.Logf("%d requests", n)
}

// TestOversizedBody: bodies beyond the 1 MiB cap are refused, never read
// into memory whole and never a server fault.
func TestOversizedBody(t *testing.T) {
	e := newEdge(t)
	body := `{"SecretId":"x","SecretString":"` + strings.Repeat("B", 1<<20) + `"}`
	r := e.call(t, "PutSecretValue", body)
	if r.Status != http.StatusRequestEntityTooLarge || r.Header.Get("x-amzn-ErrorType") != "RequestEntityTooLargeException" {
		t.Fatalf("status %d %s", r.Status, r.Body)
	}
}

// TestHealthz: GET /healthz answers without authentication.
func TestHealthz(t *testing.T) {
	e := newEdge(t)
	res, err := e.srv.Client().Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(b.String(), `"ok"`) {
		t.Fatalf("healthz: %d %s", res.StatusCode, b.String())
	}
}

// FuzzSecretsManagerEdge sends arbitrary bodies to every Secrets Manager
// operation, signed, straight into the handler: never a server fault, always
// the AWS envelope. (It shares one edge, so state carries between inputs.)
func FuzzSecretsManagerEdge(f *testing.F) {
	for _, s := range goldenSteps {
		if s.op != "" && !strings.Contains(s.body, "{{") {
			f.Add(s.op, s.body)
		}
	}
	f.Add("ListSecrets", `{"Filters":[{"Key":"all","Values":["!a b"]}],"SortBy":"name","MaxResults":1,"NextToken":"eyJuIjoiIn0"}`)
	e := newEdge(f)
	e.call(f, "CreateSecret", `{"Name":"fuzz","ClientRequestToken":"`+t1+`","SecretString":"x"}`)
	var ops []string
	for name := range smapi.Operations {
		ops = append(ops, name)
	}
	slices.Sort(ops)
	f.Fuzz(func(t *testing.T, op, body string) {
		if _, ok := smapi.Operations[op]; !ok {
			op = ops[len(op)%len(ops)]
		}
		req := e.request("secretsmanager."+op, []byte(body))
		e.sign(t, req, []byte(body))
		rec := httptest.NewRecorder()
		e.srv.Config.Handler.ServeHTTP(rec, req)
		r := &response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
		if r.Header.Get("Date") == "" { // only a real server adds Date
			r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		}
		checkEnvelope(t, r)
		if r.Status >= 500 {
			t.Fatalf("%s %q: %d %s", op, body, r.Status, r.Body)
		}
	})
}
