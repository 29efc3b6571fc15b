package identity

import (
	"errors"
	"fmt"
)

// Error kinds of IAM and STS operations. The edge maps each kind to one
// AWS error code (awsapi owns that table); an *Error's Message is the text
// sent to the client.
var (
	ErrNoSuchEntity         = errors.New("no such entity")          // NoSuchEntity 404
	ErrEntityExists         = errors.New("entity already exists")   // EntityAlreadyExists 409
	ErrMalformedPolicy      = errors.New("malformed policy")        // MalformedPolicyDocument 400
	ErrValidation           = errors.New("validation error")        // ValidationError 400
	ErrLimitExceeded        = errors.New("limit exceeded")          // LimitExceeded 409
	ErrDeleteConflict       = errors.New("delete conflict")         // DeleteConflict 409
	ErrInvalidInput         = errors.New("invalid input")           // InvalidInput 400
	ErrNotAttachable        = errors.New("policy not attachable")   // PolicyNotAttachable 400
	ErrAccessDenied         = errors.New("access denied")           // AccessDenied 403
	ErrInvalidIdentity      = errors.New("invalid identity token")  // InvalidIdentityToken 400
	ErrExpiredIdentity      = errors.New("expired identity token")  // ExpiredTokenException 400
	ErrIDPRejectedClaim     = errors.New("idp rejected claim")      // IDPRejectedClaim 403
	ErrIDPCommunication     = errors.New("idp communication error") // IDPCommunicationError 400
	ErrPackedPolicyTooLarge = errors.New("packed policy too large") // PackedPolicyTooLarge 400
)

// Error is an IAM/STS failure with the message AWS sends.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func noSuchUser(name string) *Error {
	return errorf(ErrNoSuchEntity, "The user with name %s cannot be found.", name)
}

func noSuchRole(name string) *Error {
	return errorf(ErrNoSuchEntity, "The role with name %s cannot be found.", name)
}

func noSuchEntity(kind EntityKind, name string) *Error {
	if kind == KindRole {
		return noSuchRole(name)
	}
	return noSuchUser(name)
}

func noSuchPolicy(arn string) *Error {
	return errorf(ErrNoSuchEntity, "Policy %s was not found.", arn)
}

// validationError renders the AWS framework's constraint message for one
// member.
func validationError(member, value, constraint string) *Error {
	return errorf(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}
