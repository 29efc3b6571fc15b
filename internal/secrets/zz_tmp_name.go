package secrets

// TEMPORARY until the secretsfilter branch lands (name.go, filter.go, password.go).

func ValidName(name string) bool {
	if len(name) < 1 || len(name) > 512 {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '+' || c == '=' || c == '.' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

func ErrInvalidName() *Error { return errorf(ErrValidation, msgInvalidName) }

type Filter struct {
	Key    string
	Values []string
}

func CompileFilters(filters []Filter) (func(s *Secret) bool, error) { return nil, nil }
