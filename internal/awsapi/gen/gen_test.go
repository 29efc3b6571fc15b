package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The committed generated files must equal a fresh generation, so they
// never drift from the models or the generator.
func TestGeneratedFilesUpToDate(t *testing.T) {
	tests := []struct{ model, pkg, out string }{
		{"models/secretsmanager-service-2.json", "smapi", "../smapi/types_gen.go"},
		{"models/kms-service-2.json", "kmsapi", "../kmsapi/types_gen.go"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			data, err := os.ReadFile(tt.model)
			if err != nil {
				t.Fatal(err)
			}
			want, skipped, err := generate(data, filepath.Base(tt.model), tt.pkg)
			if err != nil {
				t.Fatal(err)
			}
			if len(skipped) > 0 {
				t.Logf("patterns not enforced: %+v", skipped)
			}
			got, err := os.ReadFile(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is stale: run `go generate ./internal/awsapi/...`", tt.out)
			}
			again, _, err := generate(data, filepath.Base(tt.model), tt.pkg)
			if err != nil || !bytes.Equal(again, want) {
				t.Errorf("generation is not deterministic")
			}
		})
	}
}

func TestTranslatePattern(t *testing.T) {
	tests := []struct {
		java, goExpr string
		match, miss  []string
	}{
		{`[\w+=,.@-]+`, `^(?:[\w+=,.@-]+)$`, []string{"my-role", "a.b@c"}, []string{"my role", ""}},
		{`[\u0020-\u00FF]*`, `^(?:[\x{0020}-\x{00FF}]*)$`, []string{"", "abc ÿ"}, []string{"\u0100", "\n"}},
		{`^[a-zA-Z0-9:/_\s.-]+$`, `^(?:^[a-zA-Z0-9:/_\s\x0B.-]+$)$`, []string{"a b\x0bc"}, []string{"a!"}},
		{`a\sb`, `^(?:a[\s\x0B]b)$`, []string{"a b", "a\x0bb"}, []string{"ab"}},
		{`^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`, `^(?:^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$)$`, []string{"!a b", "x=y/z"}, []string{"a#b"}},
		{`[0-9]+h`, `^(?:[0-9]+h)$`, []string{"12h"}, []string{"12h!", "x12h"}},
		{`\Qa.b\E+`, `^(?:a\.b+)$`, []string{"a.bb"}, []string{"axb"}},
		{`a|ab`, `^(?:a|ab)$`, []string{"a", "ab"}, []string{"abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.java, func(t *testing.T) {
			got, err := translatePattern(tt.java)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.goExpr {
				t.Errorf("translatePattern = %q, want %q", got, tt.goExpr)
			}
			re := regexp.MustCompile(got)
			for _, s := range tt.match {
				if !re.MatchString(s) {
					t.Errorf("%q does not match", s)
				}
			}
			for _, s := range tt.miss {
				if re.MatchString(s) {
					t.Errorf("%q matches", s)
				}
			}
		})
	}
}

func TestTranslatePatternUnsupported(t *testing.T) {
	for _, p := range []string{
		`^[0-9A-Za-z\.\-_]*(?<!\.)$`,
		`(?=a)a`,
		`(?!a)b`,
		`(?>ab)`,
		`a*+`,
		`[0-9]++`,
		`(a)\1`,
		`[a-z&&[^b]]`,
		`[a-z[0-9]]`,
		`\p{Alpha}+`,
		`\Qabc`,
	} {
		if got, err := translatePattern(p); err == nil {
			t.Errorf("translatePattern(%q) = %q, want an error", p, got)
		}
	}
	// Escaped plus signs are not possessive quantifiers.
	if _, err := translatePattern(`a\++`); err != nil {
		t.Errorf(`translatePattern(a\++) = %v`, err)
	}
}

func TestReadOnly(t *testing.T) {
	for op, want := range map[string]bool{
		"GetSecretValue": true, "BatchGetSecretValue": true, "ListSecrets": true, "DescribeSecret": true,
		"GetRandomPassword": true, "ValidateResourcePolicy": true, "LookupEvents": true,
		"Encrypt": true, "Decrypt": true, "ReEncrypt": true, "GenerateDataKey": true,
		"GenerateDataKeyPairWithoutPlaintext": true, "GenerateRandom": true, "Sign": true, "Verify": true,
		"GenerateMac": true, "VerifyMac": true, "DeriveSharedSecret": true,
		"CreateSecret": false, "PutSecretValue": false, "TagResource": false, "RotateSecret": false,
		"CreateKey": false, "ScheduleKeyDeletion": false, "CreateGrant": false, "RetireGrant": false,
		"ImportKeyMaterial": false, "RotateKeyOnDemand": false, "EnableKey": false,
	} {
		if got := readOnly(op); got != want {
			t.Errorf("readOnly(%s) = %v, want %v", op, got, want)
		}
	}
}

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{"SecretId": "secretId", "KMSKeyId": "kMSKeyId", "X": "x"} {
		if got := lowerCamel(in); got != want {
			t.Errorf("lowerCamel(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestGenerateRejectsBadModels(t *testing.T) {
	tests := []struct{ name, model, wantErr string }{
		{"protocol", `{"metadata":{"protocol":"rest-json"},"operations":{},"shapes":{}}`, "only awsJson"},
		{"unknown shape", `{"metadata":{"protocol":"json"},"operations":{"Op":{"name":"Op","input":{"shape":"Nope"}}},"shapes":{}}`, "unknown shape"},
		{"field name clash", `{"metadata":{"protocol":"json"},"operations":{"Op":{"name":"Op","input":{"shape":"In"}}},
			"shapes":{"In":{"type":"structure","members":{"Validate":{"shape":"S"}}},"S":{"type":"string"}}}`, "cannot be used as a Go field name"},
		{"type name clash", `{"metadata":{"protocol":"json"},"operations":{"Op":{"name":"Op","input":{"shape":"In"}}},
			"shapes":{"In":{"type":"structure","members":{"A":{"shape":"OpInput"}}},"OpInput":{"type":"structure","members":{}}}}`, "cannot be used as a Go type name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := generate([]byte(tt.model), "m.json", "p")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("generate error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// Member order from the model drives field order and message order.
func TestMembersKeepModelOrder(t *testing.T) {
	model := `{"metadata":{"protocol":"json","targetPrefix":"svc"},
		"operations":{"Op":{"name":"Op","input":{"shape":"In"}}},
		"shapes":{"In":{"type":"structure","required":["Zeta","Alpha"],"members":{"Zeta":{"shape":"S"},"Alpha":{"shape":"S"},"Mid":{"shape":"S"}}},
		"S":{"type":"string","min":1}}}`
	src, _, err := generate([]byte(model), "m.json", "p")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	z, a, m := strings.Index(s, `v.String("", "zeta"`), strings.Index(s, `v.String("", "alpha"`), strings.Index(s, `v.String("", "mid"`)
	if z < 0 || !(z < a && a < m) {
		t.Errorf("validation order not zeta, alpha, mid:\n%s", s)
	}
}
