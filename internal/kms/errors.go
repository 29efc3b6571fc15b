package kms

import (
	"errors"
	"fmt"
)

// Error kinds; the edge maps each to one AWS KMS error type. The message of
// an *Error is AWS's text.
var (
	ErrNotFound          = errors.New("not found")          // NotFoundException
	ErrDisabled          = errors.New("disabled")           // DisabledException
	ErrInvalidState      = errors.New("invalid state")      // KMSInvalidStateException
	ErrInvalidCiphertext = errors.New("invalid ciphertext") // InvalidCiphertextException
	ErrIncorrectKey      = errors.New("incorrect key")      // IncorrectKeyException
	ErrInvalidArn        = errors.New("invalid arn")        // InvalidArnException
	ErrAlreadyExists     = errors.New("already exists")     // AlreadyExistsException
	ErrInvalidAliasName  = errors.New("invalid alias name") // InvalidAliasNameException
	ErrValidation        = errors.New("validation")         // ValidationException
	ErrUnsupported       = errors.New("unsupported")        // UnsupportedOperationException
	ErrLimitExceeded     = errors.New("limit exceeded")     // LimitExceededException
	ErrInvalidKeyUsage   = errors.New("invalid key usage")  // InvalidKeyUsageException
	ErrTag               = errors.New("tag")                // TagException
	ErrMalformedPolicy   = errors.New("malformed policy")   // MalformedPolicyDocumentException
	ErrInvalidMarker     = errors.New("invalid marker")     // InvalidMarkerException
	ErrConflict          = errors.New("conflict")           // ConflictException
	ErrAccessDenied      = errors.New("access denied")      // AccessDeniedException
	ErrNotAuthorized     = errors.New("not authorized")     // NotAuthorizedException
	ErrDryRun            = errors.New("dry run")            // DryRunOperationException
	ErrInternal          = errors.New("internal")           // KMSInternalException

	// ErrMalformedKeyID is a key reference that is not a key id, key ARN,
	// alias name or alias ARN at all. It is a NotFoundException on the KMS
	// API (errors.Is(ErrMalformedKeyID, ErrNotFound)); Secrets Manager
	// reports it differently from a well-formed key that does not exist.
	ErrMalformedKeyID = fmt.Errorf("malformed key id: %w", ErrNotFound)
)

// Operations a Secrets Manager call makes on its caller's behalf, recorded
// in Error.Op so that the edge can report the failure the way Secrets
// Manager does (EncryptionFailure for a data key that could not be made,
// DecryptionFailure for one that could not be opened).
const (
	OpGenerateDataKey = "GenerateDataKey"
	OpDecrypt         = "Decrypt"
)

// Error is a KMS domain error with AWS's message.
type Error struct {
	Kind    error
	Message string
	// Op is set when the failure happened while another service used a
	// key through DataKey (OpGenerateDataKey) or DecryptDataKey
	// (OpDecrypt); it is empty for calls of the KMS API itself.
	Op string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Kind.Error()
	}
	return e.Message
}
func (e *Error) Unwrap() error { return e.Kind }

func errf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// during returns err marked as having happened during op on another
// service's behalf. *Error values may be shared, so it copies.
func during(op string, err error) error {
	var ke *Error
	if !errors.As(err, &ke) {
		return err
	}
	c := *ke
	c.Op = op
	return &c
}

func errDisabled(arn string) *Error { return errf(ErrDisabled, "%s is disabled.", arn) }
func errPendingDelete(arn string) *Error {
	return errf(ErrInvalidState, "%s is pending deletion.", arn)
}

// errInvalidCiphertext: AWS returns InvalidCiphertextException with an
// empty message for every ciphertext problem (spec §5.3).
var errInvalidCiphertext = &Error{Kind: ErrInvalidCiphertext, Message: ""}

// errIncorrectKey is what Decrypt and ReEncrypt return when the KeyId in
// the request is not the key the ciphertext was made with (spec §5.3).
var errIncorrectKey = &Error{Kind: ErrIncorrectKey, Message: "The key ID in the request does not identify a CMK that can perform this operation."}

// ClientFault reports whether the error is the caller's or the key's fault
// (everything but an internal failure); secrets.IsClientFault reads it.
func (e *Error) ClientFault() bool { return !errors.Is(e.Kind, ErrInternal) }
