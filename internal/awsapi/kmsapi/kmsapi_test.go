package kmsapi_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/awsjson/awsjsontest"
	"github.com/coffer-dev/coffer/internal/awsapi/kmsapi"
)

func TestOperationsTable(t *testing.T) {
	if len(kmsapi.Operations) != 54 {
		t.Errorf("%d operations, want 54", len(kmsapi.Operations))
	}
	var readOnly []string
	for name, op := range kmsapi.Operations {
		if op.Name != name {
			t.Errorf("Operations[%s].Name = %s", name, op.Name)
		}
		if got := reflect.TypeOf(op.NewInput()).Elem().Name(); got != name+"Input" {
			t.Errorf("Operations[%s].NewInput() is a %s", name, got)
		}
		if op.ReadOnly {
			readOnly = append(readOnly, name)
		}
	}
	slices.Sort(readOnly)
	want := []string{
		"Decrypt", "DeriveSharedSecret", "DescribeCustomKeyStores", "DescribeKey", "Encrypt",
		"GenerateDataKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext",
		"GenerateMac", "GenerateRandom", "GetKeyLastUsage", "GetKeyPolicy", "GetKeyRotationStatus", "GetParametersForImport",
		"GetPublicKey", "ListAliases", "ListGrants", "ListKeyPolicies", "ListKeyRotations", "ListKeys",
		"ListResourceTags", "ListRetirableGrants", "ReEncrypt", "Sign", "Verify", "VerifyMac",
	}
	if diff := cmp.Diff(want, readOnly); diff != "" {
		t.Errorf("read-only operations (-want +got):\n%s", diff)
	}
	if op := kmsapi.Operations["ListRetirableGrants"]; op.OutputShape != "ListGrantsResponse" {
		t.Errorf("ListRetirableGrants output shape %q", op.OutputShape)
	}
	if kmsapi.TargetPrefix != "TrentService" || kmsapi.SigningName != "kms" {
		t.Errorf("metadata: %q %q", kmsapi.TargetPrefix, kmsapi.SigningName)
	}
}

const hunter = "hunter2-do-not-echo"

func b64(n int, prefix string) string {
	return base64.StdEncoding.EncodeToString([]byte(prefix + strings.Repeat("p", n-len(prefix))))
}

// Golden validation messages. The first three are AWS texts recorded by
// LocalStack's AWS-validated KMS snapshots.
func TestValidationMessages(t *testing.T) {
	tests := []struct {
		name, op, body, want string
	}{
		{"recorded: numberOfBytes", "GenerateRandom", `{"NumberOfBytes":1025}`,
			"1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"},
		{"recorded: plaintext too long", "Encrypt", `{"KeyId":"alias/k","Plaintext":"` + b64(4097, hunter) + `"}`,
			"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"},
		{"recorded: macAlgorithm", "GenerateMac", `{"KeyId":"k","Message":"aGk=","MacAlgorithm":"INVALID"}`,
			"1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: " +
				"Member must satisfy enum value set: [HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384, HMAC_SHA_512]"},
		{"plaintext empty", "Encrypt", `{"KeyId":"k","Plaintext":""}`,
			"1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"valid", "Encrypt", `{"KeyId":"alias/k","Plaintext":"aGk=","EncryptionContext":{"a":"b"},"EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`, ""},
		{"missing required", "Encrypt", `{}`,
			"2 validation errors detected: " +
				"Value null at 'keyId' failed to satisfy constraint: Member must not be null; " +
				"Value at 'plaintext' failed to satisfy constraint: Member must not be null"},
		{"ciphertext too long", "Decrypt", `{"CiphertextBlob":"` + b64(6145, "") + `"}`,
			"1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144"},
		{"key id too long", "DescribeKey", `{"KeyId":"` + strings.Repeat("k", 2049) + `"}`,
			"1 validation error detected: Value '" + strings.Repeat("k", 256) + "...' at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"pending window", "ScheduleKeyDeletion", `{"KeyId":"k","PendingWindowInDays":366}`,
			"1 validation error detected: Value '366' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 365"},
		{"nested required", "CreateKey", `{"Tags":[{"TagKey":"k","TagValue":"v"},{"TagKey":"k2"}]}`,
			"1 validation error detected: Value null at 'tags.2.member.tagValue' failed to satisfy constraint: Member must not be null"},
		{"list of enums", "CreateGrant", `{"KeyId":"k","GranteePrincipal":"arn:aws:iam::111122223333:role/r","Operations":["Decrypt","Bogus"]}`,
			"1 validation error detected: Value '[Decrypt, Bogus]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must satisfy enum value set: [Decrypt, Encrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, ReEncryptFrom, ReEncryptTo, " +
				"Sign, Verify, GetPublicKey, CreateGrant, RetireGrant, DescribeKey, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, " +
				"GenerateMac, VerifyMac, DeriveSharedSecret]]"},
		{"grant tokens too many", "Encrypt", `{"KeyId":"k","Plaintext":"aGk=","GrantTokens":["1","2","3","4","5","6","7","8","9","10","11"]}`,
			"1 validation error detected: Value '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]' at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"unicode range pattern", "ListAliases", `{"Marker":"ok\u0100"}`,
			"1 validation error detected: Value 'okĀ' at 'marker' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\u00FF]*"},
		{"alias pattern", "CreateAlias", `{"AliasName":"alias/bad name","TargetKeyId":"k"}`,
			"1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"},
		{"sensitive nested", "CreateCustomKeyStore",
			`{"CustomKeyStoreName":"s","KeyStorePassword":"` + hunter + strings.Repeat("x", 40) + `",` +
				`"XksProxyAuthenticationCredential":{"AccessKeyId":"` + hunter + `","RawSecretAccessKey":"short"}}`,
			"4 validation errors detected: " +
				"Value at 'keyStorePassword' failed to satisfy constraint: Member must have length less than or equal to 32; " +
				"Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[A-Z2-7]+$; " +
				"Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
				"Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint: Member must have length greater than or equal to 43"},
		{"sensitive required nested", "UpdateCustomKeyStore", `{"CustomKeyStoreId":"c","XksProxyAuthenticationCredential":{}}`,
			"2 validation errors detected: " +
				"Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: Member must not be null; " +
				"Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint: Member must not be null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := kmsapi.Operations[tt.op].NewInput()
			if err := awsjson.Decode([]byte(tt.body), in); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			err := in.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				var ve *awsjson.ValidationError
				if !errors.As(err, &ve) {
					t.Errorf("error is a %T", err)
				}
			}
			if got != tt.want {
				t.Errorf("Validate()\n got %q\nwant %q", got, tt.want)
			}
			if strings.Contains(got, "hunter2") || strings.Contains(got, base64.StdEncoding.EncodeToString([]byte(hunter[:18]))) {
				t.Errorf("a sensitive value was rendered")
			}
		})
	}
}

func TestSensitiveSweep(t *testing.T) {
	hit := awsjsontest.SensitiveSweep(t, "../gen/models/kms-service-2.json", kmsapi.Operations)
	for _, op := range []string{"Encrypt", "GenerateMac", "Sign", "Verify", "VerifyMac", "CreateCustomKeyStore", "UpdateCustomKeyStore"} {
		if !slices.Contains(hit, op) {
			t.Errorf("sweep did not reach the sensitive members of %s (reached %v)", op, hit)
		}
	}
}

func TestAuditParams(t *testing.T) {
	tests := []struct {
		op, body string
		want     map[string]any
	}{
		{"Encrypt", `{"KeyId":"alias/k","Plaintext":"` + b64(10, hunter[:8]) + `","EncryptionContext":{"SecretARN":"arn","SecretVersionId":"v"},"GrantTokens":["g"]}`,
			map[string]any{
				"keyId":             "alias/k",
				"encryptionContext": map[string]string{"SecretARN": "arn", "SecretVersionId": "v"},
				"grantTokens":       []string{"g"},
			}},
		{"Decrypt", `{"CiphertextBlob":"aGk=","EncryptionContext":{"a":"b"},"EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`,
			map[string]any{"encryptionContext": map[string]string{"a": "b"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}},
		{"GenerateDataKey", `{"KeyId":"k","KeySpec":"AES_256","NumberOfBytes":32,"Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256","AttestationDocument":"aGk="}}`,
			map[string]any{"keyId": "k", "keySpec": "AES_256", "numberOfBytes": int64(32),
				"recipient": map[string]any{"keyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}},
		{"CreateKey", `{"Description":"d","Tags":[{"TagKey":"k","TagValue":"v"}],"MultiRegion":false}`,
			map[string]any{"description": "d", "tags": []any{map[string]any{"tagKey": "k", "tagValue": "v"}}, "multiRegion": false}},
		{"CreateCustomKeyStore", `{"CustomKeyStoreName":"s","KeyStorePassword":"` + hunter + `","XksProxyAuthenticationCredential":{"AccessKeyId":"` + hunter + `","RawSecretAccessKey":"` + hunter + `"}}`,
			map[string]any{"customKeyStoreName": "s"}},
		{"ListKeys", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			in := kmsapi.Operations[tt.op].NewInput()
			if err := awsjson.Decode([]byte(tt.body), in); err != nil {
				t.Fatal(err)
			}
			got := in.AuditParams()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AuditParams (-want +got):\n%s", diff)
			}
			b, _ := json.Marshal(got)
			if strings.Contains(string(b), "hunter") || strings.Contains(string(b), "aGk=") {
				t.Errorf("sensitive member or blob logged: %s", b)
			}
		})
	}
}

func TestOutputEncoding(t *testing.T) {
	created := time.UnixMilli(1523477145713)
	out := kmsapi.DescribeKeyOutput{KeyMetadata: &kmsapi.KeyMetadata{
		KeyId: new("k"), CreationDate: awsjson.TimeOf(created), Enabled: new(false),
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}, MultiRegion: new(false),
	}}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"KeyMetadata":{"KeyId":"k","CreationDate":1523477145.713,"Enabled":false,"EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegion":false}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(kmsapi.EnableKeyOutput{})
	if string(b) != `{}` {
		t.Errorf("EnableKeyOutput = %s", b)
	}
	b, _ = json.Marshal(kmsapi.ListResourceTagsOutput{Tags: []kmsapi.Tag{}, Truncated: new(false)})
	if string(b) != `{"Tags":[],"Truncated":false}` {
		t.Errorf("ListResourceTagsOutput = %s", b)
	}
}
