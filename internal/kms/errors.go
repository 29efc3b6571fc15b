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
	ErrInternal          = errors.New("internal")           // KMSInternalException
)

// Error is a KMS domain error with AWS's message.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func errDisabled(arn string) *Error { return errf(ErrDisabled, "%s is disabled.", arn) }
func errPendingDelete(arn string) *Error {
	return errf(ErrInvalidState, "%s is pending deletion.", arn)
}

// errInvalidCiphertext: AWS returns InvalidCiphertextException with an
// empty message for every ciphertext problem (spec §5.3).
var errInvalidCiphertext = &Error{Kind: ErrInvalidCiphertext, Message: ""}
