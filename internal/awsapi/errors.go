package awsapi

import (
	"errors"
	"net/http"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
)

// apiError is an error as the wire shows it: an AWS error type, a message
// and an HTTP status.
type apiError struct {
	Type    string
	Message string
	Status  int
	// internal is the underlying failure of an InternalServiceError, for
	// the log only.
	internal error
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func clientErr(typ, msg string) *apiError {
	return &apiError{Type: typ, Message: msg, Status: http.StatusBadRequest}
}

// The one error table: domain error kinds to AWS error types, per service.
var (
	smErrorTypes = []struct {
		kind error
		typ  string
	}{
		{secrets.ErrNotFound, "ResourceNotFoundException"},
		{secrets.ErrExists, "ResourceExistsException"},
		{secrets.ErrInvalidParameter, "InvalidParameterException"},
		{secrets.ErrInvalidRequest, "InvalidRequestException"},
		{secrets.ErrValidation, "ValidationException"},
		{secrets.ErrLimitExceeded, "LimitExceededException"},
		{secrets.ErrEncryptionFailure, "EncryptionFailure"},
		{secrets.ErrDecryptionFailure, "DecryptionFailure"},
		{secrets.ErrMalformedPolicy, "MalformedPolicyDocumentException"},
		{secrets.ErrPublicPolicy, "PublicPolicyException"},
		{secrets.ErrPrecondition, "PreconditionNotMetException"},
		{secrets.ErrInvalidNextToken, "InvalidNextTokenException"},
		{secrets.ErrAccessDenied, "AccessDeniedException"},
	}
	kmsErrorTypes = []struct {
		kind error
		typ  string
	}{
		{kms.ErrNotFound, "NotFoundException"},
		{kms.ErrDisabled, "DisabledException"},
		{kms.ErrInvalidState, "KMSInvalidStateException"},
		{kms.ErrInvalidCiphertext, "InvalidCiphertextException"},
		{kms.ErrIncorrectKey, "IncorrectKeyException"},
		{kms.ErrInvalidArn, "InvalidArnException"},
		{kms.ErrAlreadyExists, "AlreadyExistsException"},
		{kms.ErrInvalidAliasName, "InvalidAliasNameException"},
		{kms.ErrValidation, "ValidationException"},
		{kms.ErrUnsupported, "UnsupportedOperationException"},
		{kms.ErrLimitExceeded, "LimitExceededException"},
		{kms.ErrInvalidKeyUsage, "InvalidKeyUsageException"},
		{kms.ErrTag, "TagException"},
		{kms.ErrMalformedPolicy, "MalformedPolicyDocumentException"},
		{kms.ErrInvalidMarker, "InvalidMarkerException"},
		{kms.ErrConflict, "ConflictException"},
		{kms.ErrAccessDenied, "AccessDeniedException"},
		{kms.ErrNotAuthorized, "NotAuthorizedException"},
		{kms.ErrDryRun, "DryRunOperationException"},
		{kms.ErrInternal, "KMSInternalException"},
	}
)

// internalType is the server-fault error type of each service.
var internalType = map[string]string{
	svcSecretsManager: "InternalServiceError",
	svcKMS:            "KMSInternalException",
}

// toAPIError maps any error from the domain to what the wire shows, for
// the given service.
func toAPIError(service string, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *secrets.Error
	if errors.As(err, &se) {
		// A KMS failure inside a Secrets Manager call.
		var ke *kms.Error
		if service == svcSecretsManager && errors.As(se.Kind, &ke) {
			return kmsErrorInSM(ke)
		}
		for _, e := range smErrorTypes {
			if errors.Is(se.Kind, e.kind) {
				return clientErr(e.typ, se.Message)
			}
		}
	}
	var ke *kms.Error
	if errors.As(err, &ke) {
		if service == svcSecretsManager {
			return kmsErrorInSM(ke)
		}
		if errors.Is(ke.Kind, kms.ErrInternal) {
			return &apiError{Type: "KMSInternalException", Message: "An internal error occurred.", Status: http.StatusInternalServerError, internal: err}
		}
		for _, e := range kmsErrorTypes {
			if errors.Is(ke.Kind, e.kind) {
				return clientErr(e.typ, ke.Message)
			}
		}
	}
	switch {
	case errors.Is(err, identity.ErrUnrecognized):
		return clientErr("UnrecognizedClientException", identity.ErrUnrecognized.Error())
	case errors.Is(err, identity.ErrExpired):
		return clientErr("ExpiredTokenException", identity.ErrExpired.Error())
	}
	typ := internalType[service]
	if typ == "" {
		typ = "InternalFailure"
	}
	return &apiError{Type: typ, Message: "An internal error occurred. Retry the request; if it keeps failing, report the request ID to the operator.", Status: http.StatusInternalServerError, internal: err}
}

// kmsErrorType is the KMS error type of a KMS domain error.
func kmsErrorType(ke *kms.Error) string {
	for _, e := range kmsErrorTypes {
		if errors.Is(ke.Kind, e.kind) {
			return e.typ
		}
	}
	return "KMSInternalException"
}

// kmsErrorInSM renders a KMS failure that happened while Secrets Manager
// used a key on the caller's behalf, the way Secrets Manager reports it.
//
// Evidence (AWS responses quoted in public sources):
//   - GetSecretValue, key disabled: DecryptionFailure "Secrets Manager can't
//     decrypt the secret value: arn:aws:kms:…:key/… is disabled. (Service:
//     AWSKMS; Status Code: 400; Error Code: DisabledException; Request ID: …;
//     Proxy: null)" — AWS GovCloud (US) User Guide, "AWS GovCloud (US)
//     account root user", Troubleshooting, Issue: DecryptionFailure.
//   - read with the key pending deletion: "Secrets Manager can't decrypt the
//     secret value ... is pending deletion" — quoted from a terraform apply
//     in a public infrastructure repository.
//   - PutSecretValue with a key that does not exist: "Secrets Manager can't
//     encrypt the secret value: Key 'arn:aws:kms:…' does not exist (Service:
//     AWSKMS; Status Code: 400; Error Code: NotFoundException; Request ID:
//     …" — hashicorp/terraform-provider-aws#30272. The error type is not
//     quoted there; EncryptionFailure is the modeled error whose
//     documentation says "Check that the KMS key is available, enabled, and
//     not in an invalid state" [M-SM], so writes use it.
//   - CreateSecret with a malformed KmsKeyId: InvalidParameterException "The
//     operation failed because of an invalid KMS key: Invalid keyId" —
//     hashicorp/terraform-provider-aws#13303.
//   - missing KMS permission: AccessDeniedException "Access to KMS is not
//     allowed" (spec §2.7).
//
// The KMS part is the Java SDK rendering of KMS's own error, as quoted;
// its Request ID is a fresh one (KMS's own request is internal here).
func kmsErrorInSM(ke *kms.Error) *apiError {
	switch {
	case errors.Is(ke.Kind, kms.ErrMalformedKeyID):
		return clientErr("InvalidParameterException", "The operation failed because of an invalid KMS key: Invalid keyId")
	case errors.Is(ke.Kind, kms.ErrAccessDenied):
		return clientErr("AccessDeniedException", "Access to KMS is not allowed")
	case errors.Is(ke.Kind, kms.ErrInternal):
		return &apiError{Type: "InternalServiceError", Message: "An internal error occurred.", Status: http.StatusInternalServerError, internal: ke}
	case ke.Op == kms.OpDecrypt && (errors.Is(ke.Kind, kms.ErrInvalidCiphertext) || errors.Is(ke.Kind, kms.ErrIncorrectKey)):
		return clientErr("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	case ke.Op == kms.OpDecrypt:
		return clientErr("DecryptionFailure", "Secrets Manager can't decrypt the secret value: "+awsKMSMessage(ke))
	}
	return clientErr("EncryptionFailure", "Secrets Manager can't encrypt the secret value: "+awsKMSMessage(ke))
}

// awsKMSMessage renders a KMS error as the AWS SDK for Java does, which is
// how Secrets Manager embeds it.
func awsKMSMessage(ke *kms.Error) string {
	return ke.Message + " (Service: AWSKMS; Status Code: 400; Error Code: " + kmsErrorType(ke) + "; Request ID: " + newRequestID() + "; Proxy: null)"
}

// queryErrorTypes maps identity (IAM, STS) error kinds to the query
// protocol's codes and statuses (botocore IAM and STS models).
var queryErrorTypes = []struct {
	kind   error
	code   string
	status int
}{
	{identity.ErrNoSuchEntity, "NoSuchEntity", http.StatusNotFound},
	{identity.ErrEntityExists, "EntityAlreadyExists", http.StatusConflict},
	{identity.ErrMalformedPolicy, "MalformedPolicyDocument", http.StatusBadRequest},
	{identity.ErrValidation, "ValidationError", http.StatusBadRequest},
	{identity.ErrLimitExceeded, "LimitExceeded", http.StatusConflict},
	{identity.ErrDeleteConflict, "DeleteConflict", http.StatusConflict},
	{identity.ErrInvalidInput, "InvalidInput", http.StatusBadRequest},
	{identity.ErrNotAttachable, "PolicyNotAttachable", http.StatusBadRequest},
	{identity.ErrAccessDenied, "AccessDenied", http.StatusForbidden},
	{identity.ErrInvalidIdentity, "InvalidIdentityToken", http.StatusBadRequest},
	{identity.ErrExpiredIdentity, "ExpiredTokenException", http.StatusBadRequest},
	{identity.ErrIDPRejectedClaim, "IDPRejectedClaim", http.StatusForbidden},
	{identity.ErrIDPCommunication, "IDPCommunicationError", http.StatusBadRequest},
	{identity.ErrPackedPolicyTooLarge, "PackedPolicyTooLarge", http.StatusBadRequest},
}

// queryAPIError maps any error of an IAM or STS operation to what the
// wire shows.
func queryAPIError(service string, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ie *identity.Error
	if errors.As(err, &ie) {
		for _, e := range queryErrorTypes {
			if errors.Is(ie.Kind, e.kind) {
				code := e.code
				if service == svcSTS && code == "InvalidInput" {
					code = "ValidationError" // STS has no InvalidInput
				}
				return &apiError{Type: code, Message: ie.Message, Status: e.status}
			}
		}
	}
	switch {
	case errors.Is(err, identity.ErrUnrecognized):
		return &apiError{Type: "InvalidClientTokenId", Message: identity.ErrUnrecognized.Error(), Status: http.StatusForbidden}
	case errors.Is(err, identity.ErrExpired):
		return &apiError{Type: "ExpiredToken", Message: identity.ErrExpired.Error(), Status: http.StatusForbidden}
	}
	if service == svcIAM {
		return &apiError{Type: "ServiceFailure", Message: "An internal error occurred. Retry the request; if it keeps failing, report the request ID to the operator.", Status: http.StatusInternalServerError, internal: err}
	}
	return &apiError{Type: "InternalFailure", Message: "An internal error occurred. Retry the request; if it keeps failing, report the request ID to the operator.", Status: http.StatusInternalServerError, internal: err}
}
