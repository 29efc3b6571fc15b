package awsjson_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

func ptr[T any](v T) *T { return &v }

func TestValidationErrorText(t *testing.T) {
	one := &awsjson.ValidationError{Errors: []string{"Value 'a' at 'x' failed to satisfy constraint: C"}, Total: 1}
	if got, want := one.Error(), "1 validation error detected: Value 'a' at 'x' failed to satisfy constraint: C"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	two := &awsjson.ValidationError{Errors: []string{"A", "B"}}
	if got, want := two.Error(), "2 validation errors detected: A; B"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValidatorNoErrors(t *testing.T) {
	var v awsjson.Validator
	v.String("", "x", ptr("ok"), true, &awsjson.Rule{MinLen: awsjson.Some(1)})
	if err := v.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
}

var (
	reName   = regexp.MustCompile(`^(?:[a-z]+)$`)
	ruleName = &awsjson.Rule{MinLen: awsjson.Some(2), MaxLen: awsjson.Some(5), Pattern: reName, PatternText: `[a-z]+`}
	ruleEnum = &awsjson.Rule{Enum: []string{"B", "A", "C"}}
	ruleNum  = &awsjson.Rule{Min: awsjson.Some(1), Max: awsjson.Some(1024)}
	ruleBlob = &awsjson.Rule{MinLen: awsjson.Some(1), MaxLen: awsjson.Some(4)}
	ruleSens = &awsjson.Rule{Sensitive: true, MinLen: awsjson.Some(1), MaxLen: awsjson.Some(4)}
	ruleList = &awsjson.Rule{MaxLen: awsjson.Some(2), Member: &awsjson.Rule{MinLen: awsjson.Some(1), MaxLen: awsjson.Some(3)}}
	ruleMap  = &awsjson.Rule{MaxLen: awsjson.Some(3), Key: &awsjson.Rule{MinLen: awsjson.Some(1)}, Value: &awsjson.Rule{MaxLen: awsjson.Some(2)}}
)

func TestValidatorMessages(t *testing.T) {
	tests := []struct {
		name  string
		check func(v *awsjson.Validator)
		want  []string
	}{
		{"required string", func(v *awsjson.Validator) { v.String("", "secretId", nil, true, ruleName) },
			[]string{"Value null at 'secretId' failed to satisfy constraint: Member must not be null"}},
		{"optional absent", func(v *awsjson.Validator) { v.String("", "secretId", nil, false, ruleName) }, nil},
		{"required sensitive", func(v *awsjson.Validator) { v.String("", "secretString", nil, true, ruleSens) },
			[]string{"Value at 'secretString' failed to satisfy constraint: Member must not be null"}},
		{"required unconstrained", func(v *awsjson.Validator) { v.Required("p", "flag", false, nil) },
			[]string{"Value null at 'p.flag' failed to satisfy constraint: Member must not be null"}},
		{"too long", func(v *awsjson.Validator) { v.String("", "name", ptr("abcdef"), false, ruleName) },
			[]string{"Value 'abcdef' at 'name' failed to satisfy constraint: Member must have length less than or equal to 5"}},
		{"pattern before length", func(v *awsjson.Validator) { v.String("", "name", ptr("A"), false, ruleName) },
			[]string{
				"Value 'A' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z]+",
				"Value 'A' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2",
			}},
		{"length counts code points", func(v *awsjson.Validator) {
			v.String("", "name", ptr("ééééé"), false, &awsjson.Rule{MaxLen: awsjson.Some(5)})
		}, nil},
		{"length counts code points (min)", func(v *awsjson.Validator) {
			v.String("", "name", ptr("é"), false, &awsjson.Rule{MinLen: awsjson.Some(2)})
		},
			[]string{"Value 'é' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 2"}},
		{"enum in model order", func(v *awsjson.Validator) { v.String("", "keySpec", ptr("D"), false, ruleEnum) },
			[]string{"Value 'D' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [B, A, C]"}},
		{"number too big", func(v *awsjson.Validator) { v.Int("", "numberOfBytes", ptr(int64(1025)), false, ruleNum) },
			[]string{"Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"}},
		{"number too small", func(v *awsjson.Validator) { v.Int("", "numberOfBytes", ptr(int64(-3)), false, ruleNum) },
			[]string{"Value '-3' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"}},
		{"float", func(v *awsjson.Validator) { v.Float("", "f", ptr(0.5), true, ruleNum) },
			[]string{"Value '0.5' at 'f' failed to satisfy constraint: Member must have value greater than or equal to 1"}},
		{"blob never rendered", func(v *awsjson.Validator) { v.Blob("", "ciphertextBlob", []byte("abcde"), true, ruleBlob) },
			[]string{"Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 4"}},
		{"empty blob", func(v *awsjson.Validator) { v.Blob("", "ciphertextBlob", []byte{}, true, ruleBlob) },
			[]string{"Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1"}},
		{"missing blob", func(v *awsjson.Validator) { v.Blob("", "ciphertextBlob", nil, true, ruleBlob) },
			[]string{"Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null"}},
		{"sensitive string", func(v *awsjson.Validator) { v.String("", "secretString", ptr("hunter2"), false, ruleSens) },
			[]string{"Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 4"}},
		{"list too long", func(v *awsjson.Validator) { v.Strings("", "stages", []string{"a", "b", "c"}, false, ruleList) },
			[]string{"Value '[a, b, c]' at 'stages' failed to satisfy constraint: Member must have length less than or equal to 2"}},
		{"list element", func(v *awsjson.Validator) { v.Strings("", "stages", []string{"a", ""}, false, ruleList) },
			[]string{"Value '[a, ]' at 'stages' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 3, Member must have length greater than or equal to 1]"}},
		{"list of enums", func(v *awsjson.Validator) {
			v.Strings("", "ops", []string{"A", "X", "Y"}, false, &awsjson.Rule{Member: ruleEnum})
		}, []string{"Value '[A, X, Y]' at 'ops' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [B, A, C]]"}},
		{"list of sensitive", func(v *awsjson.Validator) {
			v.Strings("", "secrets", []string{"hunter2"}, false, &awsjson.Rule{Member: ruleSens})
		}, []string{"Value at 'secrets' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 4, Member must have length greater than or equal to 1]"}},
		{"map entries", func(v *awsjson.Validator) {
			v.StringMap("", "ctx", map[string]string{"b": "xyz", "": "1"}, false, ruleMap)
		}, []string{
			"Value '{=1, b=xyz}' at 'ctx' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length greater than or equal to 1]",
			"Value '{=1, b=xyz}' at 'ctx' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 2]",
		}},
		{"map too big", func(v *awsjson.Validator) {
			v.StringMap("", "ctx", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}, false, ruleMap)
		}, []string{"Value '{a=1, b=2, c=3, d=4}' at 'ctx' failed to satisfy constraint: Member must have length less than or equal to 3"}},
		{"struct required", func(v *awsjson.Validator) {
			awsjson.ValidateStruct[struct{}](v, "", "rotationRules", nil, true, nil)
		}, []string{"Value null at 'rotationRules' failed to satisfy constraint: Member must not be null"}},
		{"struct members", func(v *awsjson.Validator) {
			type rules struct{ Days *int64 }
			awsjson.ValidateStruct(v, "", "rotationRules", &rules{Days: ptr(int64(0))}, false, func(r *rules, v *awsjson.Validator, p string) {
				v.Int(p, "automaticallyAfterDays", r.Days, false, ruleNum)
			})
		}, []string{"Value '0' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value greater than or equal to 1"}},
		{"list elements 1-based", func(v *awsjson.Validator) {
			type tag struct{ Key *string }
			awsjson.ValidateList(v, "", "tags", []tag{{Key: ptr("ok")}, {}}, false, &awsjson.Rule{MaxLen: awsjson.Some(1)},
				func(t *tag, v *awsjson.Validator, p string) { v.String(p, "key", t.Key, true, ruleName) })
		}, []string{
			"Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 1",
			"Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v awsjson.Validator
			tt.check(&v)
			err := v.Err()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			var ve *awsjson.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Err() = %v, want *ValidationError", err)
			}
			if strings.Join(ve.Errors, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n got %q\nwant %q", ve.Errors, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("sensitive value rendered: %s", err)
			}
		})
	}
}

func TestValidatorCapsRenderedValues(t *testing.T) {
	var v awsjson.Validator
	long := strings.Repeat("a", 3000)
	v.String("", "secretId", &long, false, &awsjson.Rule{MaxLen: awsjson.Some(2048)})
	msg := v.Err().Error()
	want := "1 validation error detected: Value '" + strings.Repeat("a", 256) + "...' at 'secretId' failed to satisfy constraint: Member must have length less than or equal to 2048"
	if msg != want {
		t.Errorf("got %q", msg)
	}
}

func TestValidatorCapsErrorCount(t *testing.T) {
	var v awsjson.Validator
	for range 250 {
		v.Required("", "x", false, nil)
	}
	var ve *awsjson.ValidationError
	if !errors.As(v.Err(), &ve) {
		t.Fatal("no ValidationError")
	}
	if ve.Total != 250 || len(ve.Errors) != awsjson.MaxRenderedErrors {
		t.Errorf("Total = %d, rendered = %d", ve.Total, len(ve.Errors))
	}
	if !strings.HasPrefix(ve.Error(), "250 validation errors detected: ") {
		t.Errorf("Error() = %.60q", ve.Error())
	}
}
