package secrets

import "errors"

// Error kinds. The edge maps each kind to one AWS error type (awsapi owns
// that table); the message of an *Error is the exact text AWS returns.
var (
	ErrNotFound          = errors.New("not found")                 // ResourceNotFoundException
	ErrExists            = errors.New("already exists")            // ResourceExistsException
	ErrInvalidParameter  = errors.New("invalid parameter")         // InvalidParameterException
	ErrInvalidRequest    = errors.New("invalid request")           // InvalidRequestException
	ErrValidation        = errors.New("validation failed")         // ValidationException
	ErrLimitExceeded     = errors.New("limit exceeded")            // LimitExceededException
	ErrEncryptionFailure = errors.New("encryption failure")        // EncryptionFailure
	ErrDecryptionFailure = errors.New("decryption failure")        // DecryptionFailure
	ErrMalformedPolicy   = errors.New("malformed policy document") // MalformedPolicyDocumentException
	ErrPublicPolicy      = errors.New("public policy")             // PublicPolicyException
	ErrPrecondition      = errors.New("precondition not met")      // PreconditionNotMetException
	ErrInvalidNextToken  = errors.New("invalid next token")        // InvalidNextTokenException
	ErrAccessDenied      = errors.New("access denied")             // AccessDeniedException
)

// Error is a domain error with AWS's user-facing message. Kind is one of the
// Err* sentinels above; errors.Is(err, ErrNotFound) works through it.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, msg string) *Error { return &Error{Kind: kind, Message: msg} }

// Messages AWS returns verbatim (see shared/spec/aws-api.md §2.8).
const (
	msgNotFound     = "Secrets Manager can't find the specified secret."
	msgInvalidName  = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
	msgMarkedDelete = "You can't perform this operation on the secret because it was marked for deletion."
)
