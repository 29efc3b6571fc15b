package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const bootstrapYAML = `# IAM as code: applied at every start, idempotently.
policies:
  - name: read-payments
    description: read the payments secrets
    document:
      Version: 2012-10-17
      Statement:
        - Sid: ReadPayments
          Effect: Allow
          Action: secretsmanager:GetSecretValue
          Resource: arn:aws:secretsmanager:{{region}}:{{account}}:secret:prod/payments/*
          Condition:
            StringEquals:
              aws:ResourceTag/team: payments
oidcProviders:
  - url: https://oidc.boot.test/id/CLUSTER1
    clientIds: [sts.amazonaws.com]
    jwksFile: jwks.json
users:
  - name: ci
    path: /automation/
    tags: {team: payments}
    managedPolicies: [read-payments]
roles:
  - name: payments-api
    maxSessionDuration: 7200
    assumeRolePolicy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {Federated: "arn:aws:iam::{{account}}:oidc-provider/oidc.boot.test/id/CLUSTER1"}
          Action: sts:AssumeRoleWithWebIdentity
          Condition:
            StringLike:
              oidc.boot.test/id/CLUSTER1:sub: system:serviceaccount:payments:*
            StringEquals:
              oidc.boot.test/id/CLUSTER1:aud: sts.amazonaws.com
    managedPolicies: [read-payments]
    inlinePolicies:
      describe: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:DescribeSecret","Resource":"*"}]}'
`

// TestIAMBootstrapFile: --iam-bootstrap applies users, roles, managed
// policies and an OIDC provider with a static JWKS file at start,
// idempotently; a changed document becomes a new default policy version;
// a broken file stops the server from starting.
func TestIAMBootstrapFile(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "jwks.json"), jwksOf(&key.PublicKey, "boot-1"), 0o600)
	file := filepath.Join(dir, "iam.yaml")
	os.WriteFile(file, []byte(bootstrapYAML), 0o600)
	data := t.TempDir()
	s := startServer(t, serverOpts{dataDir: data, args: []string{"--iam-bootstrap", file}})
	acct := s.account(t)
	c := ctx(t)

	body := s.mustQuery(t, s.root(), "GetUser", map[string]string{"UserName": "ci"})
	if !strings.Contains(body, "<Arn>arn:aws:iam::"+acct+":user/automation/ci</Arn>") || !strings.Contains(body, "<Key>team</Key><Value>payments</Value>") {
		t.Errorf("bootstrap user: %s", body)
	}
	body = s.mustQuery(t, s.root(), "ListAttachedRolePolicies", map[string]string{"RoleName": "payments-api"})
	if !strings.Contains(body, "<PolicyArn>arn:aws:iam::"+acct+":policy/read-payments</PolicyArn>") {
		t.Errorf("bootstrap role attachments: %s", body)
	}

	root := s.smAs(s.root())
	if _, err := root.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("prod/payments/db"), SecretString: aws.String("boot"),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}); err != nil {
		t.Fatal(err)
	}
	tok := signRS256(t, key, "boot-1", map[string]any{"iss": "https://oidc.boot.test/id/CLUSTER1", "sub": "system:serviceaccount:payments:worker",
		"aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix()})
	ar, err := s.stsAnon().AssumeRoleWithWebIdentity(c, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/payments-api"),
		RoleSessionName: aws.String("worker"), WebIdentityToken: aws.String(tok), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatalf("web identity with the static JWKS: %v", err)
	}
	sess := creds{ID: aws.ToString(ar.Credentials.AccessKeyId), Secret: aws.ToString(ar.Credentials.SecretAccessKey), Token: aws.ToString(ar.Credentials.SessionToken)}
	if v, err := s.smAs(sess).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/payments/db")}); err != nil || aws.ToString(v.SecretString) != "boot" {
		t.Errorf("bootstrap role reads: %v", err)
	}
	if _, err := s.smAs(sess).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/payments/db")}); err != nil {
		t.Errorf("bootstrap inline policy: %v", err)
	}

	// Idempotent: the same file again changes nothing.
	s.restart(syscall.SIGTERM)
	body = s.mustQuery(t, s.root(), "GetPolicy", map[string]string{"PolicyArn": "arn:aws:iam::" + acct + ":policy/read-payments"})
	if !strings.Contains(body, "<DefaultVersionId>v1</DefaultVersionId>") || !strings.Contains(body, "<AttachmentCount>2</AttachmentCount>") {
		t.Errorf("after restart: %s", body)
	}
	// A changed document: a new default version.
	os.WriteFile(file, []byte(strings.Replace(bootstrapYAML, "prod/payments/*", "prod/payments/db-*", 1)), 0o600)
	s.restart(syscall.SIGTERM)
	body = s.mustQuery(t, s.root(), "GetPolicy", map[string]string{"PolicyArn": "arn:aws:iam::" + acct + ":policy/read-payments"})
	if !strings.Contains(body, "<DefaultVersionId>v2</DefaultVersionId>") {
		t.Errorf("after a document change: %s", body)
	}

	// A broken file: the server refuses to start, saying why.
	s.stop(syscall.SIGTERM)
	os.WriteFile(file, []byte("users:\n  - name: x\n    bogus: 1\n"), 0o600)
	cmd := exec.Command(binary, "server", "--listen", "127.0.0.1:0", "--data-dir", data, "--iam-bootstrap", file)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "field bogus not found") {
		t.Errorf("broken bootstrap file: %v\n%s", err, out)
	}
}
