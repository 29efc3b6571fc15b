package integration

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func (s *server) kmsAs(c creds) *kms.Client {
	return kms.NewFromConfig(s.cfgFor(c), func(o *kms.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// TestIAMKeyPolicies: KMS key policies as AWS enforces them. A key whose
// policy does not delegate to IAM denies an IAM-allowed user, directly and
// when Secrets Manager uses it on the user's behalf; a delegating key
// needs the user's own kms permissions; aws/secretsmanager is usable only
// through Secrets Manager.
func TestIAMKeyPolicies(t *testing.T) {
	s := startServer(t, serverOpts{})
	acct := s.account(t)
	c := ctx(t)
	crypto := s.newUser(t, "crypto")
	s.mustQuery(t, s.root(), "PutUserPolicy", map[string]string{"UserName": "crypto", "PolicyName": "all",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:*","secretsmanager:*"],"Resource":"*"}]}`})
	smOnly := s.newUser(t, "smonly")
	s.mustQuery(t, s.root(), "PutUserPolicy", map[string]string{"UserName": "smonly", "PolicyName": "sm",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`})

	rk := s.kmsAs(s.root())
	closed, err := rk.CreateKey(c, &kms.CreateKeyInput{BypassPolicyLockoutSafetyCheck: true,
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/keyadmin"},"Action":"kms:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatalf("CreateKey closed: %v", err)
	}
	open, err := rk.CreateKey(c, &kms.CreateKeyInput{Description: aws.String("default policy")})
	if err != nil {
		t.Fatalf("CreateKey default: %v", err)
	}
	closedARN, openARN := aws.ToString(closed.KeyMetadata.Arn), aws.ToString(open.KeyMetadata.Arn)

	ck := s.kmsAs(crypto)
	if _, err := ck.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(openARN), Plaintext: []byte("x")}); err != nil {
		t.Errorf("IAM-allowed user, delegating key: %v", err)
	}
	_, err = ck.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(closedARN), Plaintext: []byte("x")})
	if errCode(err) != "AccessDeniedException" || errMessage(err) != "User: arn:aws:iam::"+acct+":user/crypto is not authorized to perform: kms:Encrypt on resource: "+closedARN+" because no resource-based policy allows the kms:Encrypt action" {
		t.Errorf("IAM-allowed user, closed key: %v", err)
	}
	if _, err := ck.DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String(closedARN)}); errCode(err) != "AccessDeniedException" {
		t.Errorf("DescribeKey of the closed key: %v", err)
	}
	if _, err := s.kmsAs(smOnly).Encrypt(c, &kms.EncryptInput{KeyId: aws.String(openARN), Plaintext: []byte("x")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("user without kms permissions, delegating key: %v", err)
	}
	if _, err := rk.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(closedARN), Plaintext: []byte("x")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("root, key policy not naming the account: %v", err)
	}
	if _, err := ck.Encrypt(c, &kms.EncryptInput{KeyId: aws.String("alias/aws/secretsmanager"), Plaintext: []byte("x")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("direct use of aws/secretsmanager: %v", err)
	}

	// Secrets Manager uses keys on the caller's behalf.
	mk := func(who creds, name, key string) error {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v-" + name)}
		if key != "" {
			in.KmsKeyId = aws.String(key)
		}
		_, err := s.smAs(who).CreateSecret(c, in)
		return err
	}
	if err := mk(crypto, "under-open", openARN); err != nil {
		t.Errorf("crypto, delegating key: %v", err)
	}
	for _, x := range []struct {
		who        creds
		name, key  string
		what       string
		wantPrefix string
	}{
		{crypto, "under-closed", closedARN, "crypto, closed key", "Access to KMS is not allowed"},
		{smOnly, "smonly-open", openARN, "smonly, delegating key", "Access to KMS is not allowed"},
	} {
		if err := mk(x.who, x.name, x.key); errCode(err) != "AccessDeniedException" || !strings.HasPrefix(errMessage(err), x.wantPrefix) {
			t.Errorf("%s: %v", x.what, err)
		}
	}
	if err := mk(smOnly, "smonly-default", ""); err != nil {
		t.Errorf("smonly, default key: %v", err)
	}
	if v, err := s.smAs(smOnly).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("smonly-default")}); err != nil || aws.ToString(v.SecretString) != "v-smonly-default" {
		t.Errorf("smonly reads under the default key: %v", err)
	}
	if _, err := s.smAs(smOnly).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("under-open")}); errCode(err) != "AccessDeniedException" || errMessage(err) != "Access to KMS is not allowed" {
		t.Errorf("smonly reads under a customer key: %v", err)
	}
	if v, err := s.smAs(crypto).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("under-open")}); err != nil || aws.ToString(v.SecretString) != "v-under-open" {
		t.Errorf("crypto reads under the delegating key: %v", err)
	}
}
