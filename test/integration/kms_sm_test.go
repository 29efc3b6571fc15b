package integration

import (
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// wantAPIErrorRE checks an AWS error code and that its message matches re.
func wantAPIErrorRE(t *testing.T, err error, code, re string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !regexp.MustCompile(re).MatchString(ae.ErrorMessage()) {
		t.Fatalf("error %s: %q, want %s matching %s", ae.ErrorCode(), ae.ErrorMessage(), code, re)
	}
}

// kmsSuffix is the Java-SDK rendering of a KMS error inside a Secrets
// Manager message.
func kmsSuffix(code string) string {
	return ` \(Service: AWSKMS; Status Code: 400; Error Code: ` + code + `; Request ID: [0-9a-f-]{36}; Proxy: null\)$`
}

// TestKMSSecretUnderCustomerKey: a secret under a customer managed key, the
// AWS errors when the key is disabled or pending deletion, and re-encryption
// when the secret's key changes.
// The key-state checks hold with the data-key cache on too: a disabled
// key refuses reads of secrets whose data keys the cache holds.
func TestKMSSecretUnderCustomerKey(t *testing.T) {
	t.Run("default", func(t *testing.T) { testKMSSecretUnderCustomerKey(t) })
	t.Run("data-key-cache", func(t *testing.T) { testKMSSecretUnderCustomerKey(t, "--data-key-cache", "64") })
}

func testKMSSecretUnderCustomerKey(t *testing.T, args ...string) {
	s := startServer(t, serverOpts{args: args})
	k, sm := s.kms(), s.sm()
	k1 := newKMSKey(t, k, "k1")
	k2 := newKMSKey(t, k, "k2")
	call(t, k.CreateAlias, &kms.CreateAliasInput{AliasName: aws.String("alias/k1"), TargetKeyId: k1.KeyId})

	get := func(stage string) (*secretsmanager.GetSecretValueOutput, error) {
		return sm.GetSecretValue(ctx(t), &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db"), VersionStage: aws.String(stage)})
	}
	cs, err := sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("v1"), KmsKeyId: aws.String("alias/k1")})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := get("AWSCURRENT"); err != nil || aws.ToString(v.SecretString) != "v1" {
		t.Fatalf("read under k1: %v", err)
	}
	d, _ := sm.DescribeSecret(ctx(t), &secretsmanager.DescribeSecretInput{SecretId: cs.ARN})
	if aws.ToString(d.KmsKeyId) != "alias/k1" {
		t.Fatalf("DescribeSecret KmsKeyId %q", aws.ToString(d.KmsKeyId))
	}
	versionKeys := func() map[string][]string {
		out, err := sm.ListSecretVersionIds(ctx(t), &secretsmanager.ListSecretVersionIdsInput{SecretId: cs.ARN})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]string{}
		for _, v := range out.Versions {
			m[aws.ToString(v.VersionId)] = v.KmsKeyIds
		}
		return m
	}
	for _, ids := range versionKeys() {
		if len(ids) != 1 || ids[0] != aws.ToString(k1.Arn) {
			t.Fatalf("KmsKeyIds %v, want [%s]", ids, aws.ToString(k1.Arn))
		}
	}

	// Disabled key: reads and writes fail as in AWS; enabled again: works.
	call(t, k.DisableKey, &kms.DisableKeyInput{KeyId: k1.KeyId})
	_, err = get("AWSCURRENT")
	wantAPIErrorRE(t, err, "DecryptionFailure", `^Secrets Manager can't decrypt the secret value: `+regexp.QuoteMeta(aws.ToString(k1.Arn))+` is disabled\.`+kmsSuffix("DisabledException"))
	_, err = sm.PutSecretValue(ctx(t), &secretsmanager.PutSecretValueInput{SecretId: cs.ARN, SecretString: aws.String("v2")})
	wantAPIErrorRE(t, err, "EncryptionFailure", `^Secrets Manager can't encrypt the secret value: `+regexp.QuoteMeta(aws.ToString(k1.Arn))+` is disabled\.`+kmsSuffix("DisabledException"))
	_, err = sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String("app/other"), SecretString: aws.String("x"), KmsKeyId: k1.Arn})
	wantAPIErrorRE(t, err, "EncryptionFailure", `is disabled\.`+kmsSuffix("DisabledException"))
	call(t, k.EnableKey, &kms.EnableKeyInput{KeyId: k1.KeyId})
	if v, err := get("AWSCURRENT"); err != nil || aws.ToString(v.SecretString) != "v1" {
		t.Fatalf("read after EnableKey: %v", err)
	}
	if _, err := sm.PutSecretValue(ctx(t), &secretsmanager.PutSecretValueInput{SecretId: cs.ARN, SecretString: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}

	// Change the secret's key: AWSCURRENT and AWSPREVIOUS are re-encrypted
	// under k2, so k1 is no longer needed to read them.
	if _, err := sm.UpdateSecret(ctx(t), &secretsmanager.UpdateSecretInput{SecretId: cs.ARN, KmsKeyId: k2.Arn}); err != nil {
		t.Fatal(err)
	}
	vk := versionKeys()
	if len(vk) != 2 {
		t.Fatalf("versions %v", vk)
	}
	for id, ids := range vk {
		if len(ids) != 1 || ids[0] != aws.ToString(k2.Arn) {
			t.Fatalf("version %s KmsKeyIds %v after the key change, want [%s]", id, ids, aws.ToString(k2.Arn))
		}
	}
	call(t, k.DisableKey, &kms.DisableKeyInput{KeyId: k1.KeyId})
	for stage, want := range map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"} {
		if v, err := get(stage); err != nil || aws.ToString(v.SecretString) != want {
			t.Fatalf("%s under k2 with k1 disabled: %v", stage, err)
		}
	}
	d, _ = sm.DescribeSecret(ctx(t), &secretsmanager.DescribeSecretInput{SecretId: cs.ARN})
	if aws.ToString(d.KmsKeyId) != aws.ToString(k2.Arn) {
		t.Fatalf("DescribeSecret KmsKeyId %q after the change", aws.ToString(d.KmsKeyId))
	}

	// Pending deletion.
	call(t, k.ScheduleKeyDeletion, &kms.ScheduleKeyDeletionInput{KeyId: k2.KeyId, PendingWindowInDays: aws.Int32(7)})
	_, err = get("AWSCURRENT")
	wantAPIErrorRE(t, err, "DecryptionFailure", `^Secrets Manager can't decrypt the secret value: `+regexp.QuoteMeta(aws.ToString(k2.Arn))+` is pending deletion\.`+kmsSuffix("KMSInvalidStateException"))
	call(t, k.CancelKeyDeletion, &kms.CancelKeyDeletionInput{KeyId: k2.KeyId})
	call(t, k.EnableKey, &kms.EnableKeyInput{KeyId: k2.KeyId})

	// Back to the default key: KmsKeyId no longer shown, DefaultEncryptionKey.
	if _, err := sm.UpdateSecret(ctx(t), &secretsmanager.UpdateSecretInput{SecretId: cs.ARN, KmsKeyId: aws.String("")}); err != nil {
		t.Fatal(err)
	}
	d, _ = sm.DescribeSecret(ctx(t), &secretsmanager.DescribeSecretInput{SecretId: cs.ARN})
	if d.KmsKeyId != nil {
		t.Fatalf("DescribeSecret KmsKeyId %q for the default key", aws.ToString(d.KmsKeyId))
	}
	for id, ids := range versionKeys() {
		if len(ids) != 1 || ids[0] != "DefaultEncryptionKey" {
			t.Fatalf("version %s KmsKeyIds %v, want [DefaultEncryptionKey]", id, ids)
		}
	}
	if v, err := get("AWSCURRENT"); err != nil || aws.ToString(v.SecretString) != "v2" {
		t.Fatalf("read under the default key: %v", err)
	}

	// Keys that are not keys.
	_, err = sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String("bad1"), SecretString: aws.String("x"), KmsKeyId: aws.String("not-a-key")})
	wantKMSError(t, err, "InvalidParameterException", "The operation failed because of an invalid KMS key: Invalid keyId")
	missing := "arn:aws:kms:us-east-1:" + aws.ToString(k1.AWSAccountId) + ":key/0b3bd5b4-1111-4222-8333-444455556666"
	_, err = sm.CreateSecret(ctx(t), &secretsmanager.CreateSecretInput{Name: aws.String("bad2"), SecretString: aws.String("x"), KmsKeyId: aws.String(missing)})
	wantAPIErrorRE(t, err, "EncryptionFailure", `^Secrets Manager can't encrypt the secret value: Key '`+regexp.QuoteMeta(missing)+`' does not exist`+kmsSuffix("NotFoundException"))
}
