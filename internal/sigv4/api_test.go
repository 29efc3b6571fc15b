package sigv4_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/sigv4"
)

// TestAuthFormatting checks that printing an Auth never shows the session
// token or the signature.
func TestAuthFormatting(t *testing.T) {
	body := []byte(`{}`)
	r := newRequest(t, "POST", "https://secretsmanager.us-east-1.amazonaws.com/", body, jsonHeaders("secretsmanager.ListSecrets"))
	sdkSign(t, r, body, temporary, "secretsmanager", "us-east-1", t0)
	a, err := sigv4.Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	sig := r.Header.Get("Authorization")[strings.Index(r.Header.Get("Authorization"), "Signature=")+len("Signature="):]
	var nilAuth *sigv4.Auth
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v", a, *a, a), fmt.Sprintf("%+v %#v", *a, *a), fmt.Sprint(nilAuth)} {
		if strings.Contains(s, token) || strings.Contains(s, sig) || strings.Contains(s, fmt.Sprintf("%x", a.Signature)) {
			t.Errorf("formatted Auth shows a secret: %s", s)
		}
	}
	if got, want := a.String(), "sigv4.Auth{header "+asia+"/20261123/us-east-1/secretsmanager/aws4_request 20261123T120000Z signed=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target token=<redacted>}"; got != want {
		t.Errorf("String() = %s\nwant       %s", got, want)
	}
}

// TestErrorsIs checks the kinds work as errors.Is targets and that errors
// read well.
func TestErrorsIs(t *testing.T) {
	r := newRequest(t, "GET", "https://sts.amazonaws.com/", nil, nil)
	_, err := sigv4.Parse(r)
	if !errors.Is(err, sigv4.KindMissing) || errors.Is(err, sigv4.KindMismatch) {
		t.Errorf("errors.Is: %v", err)
	}
	if got := err.Error(); got != "sigv4: missing authentication: Missing Authentication Token" {
		t.Errorf("Error() = %q", got)
	}
	wrapped := fmt.Errorf("auth: %w", err)
	var se *sigv4.Error
	if !errors.As(wrapped, &se) || se.Kind != sigv4.KindMissing || !errors.Is(wrapped, sigv4.KindMissing) {
		t.Errorf("wrapped: %v", wrapped)
	}
	for k := sigv4.KindMissing; k <= sigv4.KindScope; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "kind(") {
			t.Errorf("Kind(%d).String() = %q", k, s)
		}
	}
	// A request without a URL (built by hand) must not panic.
	if _, err := sigv4.Parse(&http.Request{Header: http.Header{}}); !errors.Is(err, sigv4.KindMissing) {
		t.Errorf("no URL: %v", err)
	}
}
