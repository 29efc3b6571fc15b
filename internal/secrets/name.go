package secrets

// Secret name rules (spec §2.1): 1–512 characters, each an ASCII letter, an
// ASCII digit or one of / _ + = . @ -.
const (
	nameMinLen = 1
	nameMaxLen = 512
)

// ValidName reports whether name is a legal secret name: 1–512 characters,
// ASCII letters, digits and any of / _ + = . @ -.
//
// It does not look at ARNs: callers that accept a SecretId treat ids starting
// with "arn:" as ARNs (":" is never legal in a name) before asking ValidName.
func ValidName(name string) bool {
	if len(name) < nameMinLen || len(name) > nameMaxLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !nameByteOK(name[i]) {
			return false
		}
	}
	return true
}

// nameByteOK reports whether c may appear in a secret name. Every allowed
// character is ASCII, so checking bytes is exact: any byte of a multi-byte
// UTF-8 sequence is ≥ 0x80 and fails here.
func nameByteOK(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '/', '_', '+', '=', '.', '@', '-':
		return true
	}
	return false
}

// ErrInvalidName is the error every operation returns for a name (or
// non-ARN SecretId) that fails ValidName: a ValidationException with AWS's
// exact text (spec §2.1; the trailing "!" is AWS's, even though "!" is not
// allowed in names).
func ErrInvalidName() *Error {
	return &Error{Kind: ErrValidation, Message: msgInvalidName}
}
