package secrets_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/secrets"
)

func TestValidName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		// Recorded invalid names (spec §2.1, LS test_invalid_secret_name).
		{"Inv Name", false},
		{" Inv Name", false},
		{" Inv*Name? ", false},
		{` Inv *?!]Name\-`, false},
		// Valid names from the recorded partial-ARN tests and every special.
		{"s-c64bdc03", true},
		{"Valid/_+=.@-Name", true},
		{"Valid/_+=.@-Name-a1b2c3-", true},
		{"/", true}, {"_", true}, {"+", true}, {"=", true}, {".", true}, {"@", true}, {"-", true},
		{"AZaz09", true},
		{"prod/AppBeta/db-credentials", true},
		// Length bounds.
		{"", false},
		{"a", true},
		{strings.Repeat("a", 512), true},
		{strings.Repeat("a", 513), false},
		// Other characters.
		{"a:b", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:x", false},
		{"a!b", false},
		{"a\tb", false},
		{"a\x00b", false},
		{"é", false},
		{"a\xffb", false},
		{"a#b", false},
		{"a~b", false},
	}
	for _, tc := range cases {
		if got := secrets.ValidName(tc.name); got != tc.ok {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestErrInvalidName(t *testing.T) {
	err := secrets.ErrInvalidName()
	if !errors.Is(err, secrets.ErrValidation) {
		t.Errorf("kind: got %v, want ErrValidation", err.Kind)
	}
	const want = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
	if err.Message != want || err.Error() != want {
		t.Errorf("message: got %q, want %q", err.Message, want)
	}
}

var nameOracle = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

// FuzzValidName checks ValidName against a regular-expression oracle.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"Inv Name", "Valid/_+=.@-Name", "", "é", strings.Repeat("a", 513)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := secrets.ValidName(name), nameOracle.MatchString(name); got != want {
			t.Fatalf("ValidName(%q) = %v, oracle says %v", name, got, want)
		}
	})
}
