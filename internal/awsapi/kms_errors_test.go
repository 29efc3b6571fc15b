package awsapi

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
)

func TestKMSErrorsOnBothSides(t *testing.T) {
	arn := "arn:aws:kms:us-east-1:111122223333:key/0b3bd5b4-1111-4222-8333-444455556666"
	disabled := &kms.Error{Kind: kms.ErrDisabled, Message: arn + " is disabled."}
	pending := &kms.Error{Kind: kms.ErrInvalidState, Message: arn + " is pending deletion."}
	missing := &kms.Error{Kind: kms.ErrNotFound, Message: "Key '" + arn + "' does not exist"}
	malformed := &kms.Error{Kind: kms.ErrMalformedKeyID, Message: "Invalid keyId 'x'"}
	during := func(op string, e *kms.Error) error { c := *e; c.Op = op; return &c }
	suffix := func(code string) string {
		return ` \(Service: AWSKMS; Status Code: 400; Error Code: ` + code + `; Request ID: [0-9a-f-]{36}; Proxy: null\)$`
	}
	for _, tc := range []struct {
		service string
		err     error
		typ     string
		msg     string // regexp
		status  int
	}{
		{svcKMS, disabled, "DisabledException", regexp.QuoteMeta(disabled.Message), 400},
		{svcKMS, pending, "KMSInvalidStateException", regexp.QuoteMeta(pending.Message), 400},
		{svcKMS, malformed, "NotFoundException", regexp.QuoteMeta(malformed.Message), 400},
		{svcKMS, &kms.Error{Kind: kms.ErrNotAuthorized}, "NotAuthorizedException", "^$", 400},
		{svcKMS, &kms.Error{Kind: kms.ErrDryRun, Message: "m"}, "DryRunOperationException", "^m$", 400},
		{svcKMS, &kms.Error{Kind: kms.ErrInternal, Message: "boom"}, "KMSInternalException", "^An internal error occurred.$", 500},
		{svcKMS, fmt.Errorf("disk on fire"), "KMSInternalException", ".", 500},
		{svcSecretsManager, during(kms.OpDecrypt, disabled), "DecryptionFailure", "^Secrets Manager can't decrypt the secret value: " + regexp.QuoteMeta(disabled.Message) + suffix("DisabledException"), 400},
		{svcSecretsManager, during(kms.OpDecrypt, pending), "DecryptionFailure", "^Secrets Manager can't decrypt the secret value: " + regexp.QuoteMeta(pending.Message) + suffix("KMSInvalidStateException"), 400},
		{svcSecretsManager, during(kms.OpDecrypt, &kms.Error{Kind: kms.ErrInvalidCiphertext}), "DecryptionFailure", "^Secrets Manager can't decrypt the protected secret text using the provided KMS key.$", 400},
		{svcSecretsManager, during(kms.OpGenerateDataKey, disabled), "EncryptionFailure", "^Secrets Manager can't encrypt the secret value: " + regexp.QuoteMeta(disabled.Message) + suffix("DisabledException"), 400},
		{svcSecretsManager, during(kms.OpGenerateDataKey, missing), "EncryptionFailure", "^Secrets Manager can't encrypt the secret value: " + regexp.QuoteMeta(missing.Message) + suffix("NotFoundException"), 400},
		{svcSecretsManager, during(kms.OpGenerateDataKey, malformed), "InvalidParameterException", "^The operation failed because of an invalid KMS key: Invalid keyId$", 400},
		{svcSecretsManager, &secrets.Error{Kind: during(kms.OpDecrypt, disabled)}, "DecryptionFailure", "is disabled", 400},
		{svcSecretsManager, during(kms.OpDecrypt, &kms.Error{Kind: kms.ErrAccessDenied, Message: "x"}), "AccessDeniedException", "^Access to KMS is not allowed$", 400},
		{svcSecretsManager, during(kms.OpDecrypt, &kms.Error{Kind: kms.ErrInternal}), "InternalServiceError", ".", http.StatusInternalServerError},
	} {
		ae := toAPIError(tc.service, tc.err)
		if ae.Type != tc.typ || ae.Status != tc.status || !regexp.MustCompile(tc.msg).MatchString(ae.Message) {
			t.Errorf("%s %v → %s %d %q, want %s %d /%s/", tc.service, tc.err, ae.Type, ae.Status, ae.Message, tc.typ, tc.status, tc.msg)
		}
	}
}
