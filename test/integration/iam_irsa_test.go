package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const testIssuer = "https://oidc.coffer.test/id/TESTCLUSTER"

// TestIAMLeastPrivilegeIRSA is the end-to-end least-privilege scenario:
// the root creates an OIDC provider and a role trusted by one Kubernetes
// service account whose policy allows GetSecretValue only on
// prod/payments/* secrets tagged team=payments; a service-account token is
// exchanged for credentials (Go SDK and AWS CLI v2); the session reads its
// secret, is denied everything else, and is denied after expiry.
func TestIAMLeastPrivilegeIRSA(t *testing.T) {
	clock := filepath.Join(t.TempDir(), "clock")
	os.WriteFile(clock, []byte("0s"), 0o600)
	s := startServer(t, serverOpts{env: []string{"COFFER_TESTING=1", "COFFER_TEST_CLOCK_FILE=" + clock}})
	acct := s.account(t)
	idp := newOIDCIssuer(t, testIssuer)
	c := ctx(t)
	root := s.smAs(s.root())

	// Secrets: the one the workload may read, and decoys.
	mk := func(name, team, value string) string {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}
		if team != "" {
			in.Tags = []smtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}
		}
		out, err := root.CreateSecret(c, in)
		if err != nil {
			t.Fatalf("CreateSecret %s: %v", name, err)
		}
		return aws.ToString(out.ARN)
	}
	mk("prod/payments/db", "payments", "s3cr3t-payments")
	mk("prod/payments/billing-shared", "billing", "not-yours-tag")
	mk("prod/orders/db", "payments", "not-yours-path")
	mk("staging/payments/db", "payments", "not-yours-env")

	// The admin (root) sets up the provider and the role with the CLI.
	requireTool(t, "/usr/bin/aws")
	providerARN := "arn:aws:iam::" + acct + ":oidc-provider/oidc.coffer.test/id/TESTCLUSTER"
	out, stderr, err := s.awsCLI(t, s.root(), "iam", "create-open-id-connect-provider", "--url", testIssuer,
		"--client-id-list", "sts.amazonaws.com", "--thumbprint-list", strings.Repeat("ab", 20),
		"--tags", "Key=coffer:jwks-uri,Value="+idp.JWKS)
	if err != nil {
		t.Fatalf("create-open-id-connect-provider: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, providerARN) {
		t.Fatalf("provider ARN: %s", out)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{` +
		`"oidc.coffer.test/id/TESTCLUSTER:sub":"system:serviceaccount:payments:api",` +
		`"oidc.coffer.test/id/TESTCLUSTER:aud":"sts.amazonaws.com"}}}]}`
	if _, stderr, err := s.awsCLI(t, s.root(), "iam", "create-role", "--role-name", "payments-api",
		"--assume-role-policy-document", trust, "--max-session-duration", "3600"); err != nil {
		t.Fatalf("create-role: %v\n%s", err, stderr)
	}
	perm := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadPaymentsSecrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue",` +
		`"Resource":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:prod/payments/*",` +
		`"Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"payments"}}}]}`
	if _, stderr, err := s.awsCLI(t, s.root(), "iam", "put-role-policy", "--role-name", "payments-api",
		"--policy-name", "read-payments", "--policy-document", perm); err != nil {
		t.Fatalf("put-role-policy: %v\n%s", err, stderr)
	}
	roleARN := "arn:aws:iam::" + acct + ":role/payments-api"

	// The workload exchanges its service-account token (Go SDK).
	token := idp.token(t, "system:serviceaccount:payments:api", "sts.amazonaws.com", time.Now().Add(time.Hour))
	aro, err := s.stsAnon().AssumeRoleWithWebIdentity(c, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("payments-api-pod"), WebIdentityToken: aws.String(token),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	if got := aws.ToString(aro.SubjectFromWebIdentityToken); got != "system:serviceaccount:payments:api" {
		t.Errorf("SubjectFromWebIdentityToken = %q", got)
	}
	if got := aws.ToString(aro.Audience); got != "sts.amazonaws.com" {
		t.Errorf("Audience = %q", got)
	}
	if got := aws.ToString(aro.Provider); got != providerARN {
		t.Errorf("Provider = %q", got)
	}
	sessARN := "arn:aws:sts::" + acct + ":assumed-role/payments-api/payments-api-pod"
	if got := aws.ToString(aro.AssumedRoleUser.Arn); got != sessARN {
		t.Errorf("AssumedRoleUser.Arn = %q", got)
	}
	cr := aro.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SessionToken) == "" {
		t.Fatalf("credentials: %+v", cr)
	}
	if d := time.Until(aws.ToTime(cr.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("Expiration in %v, want 15m", d)
	}
	sess := creds{ID: aws.ToString(cr.AccessKeyId), Secret: aws.ToString(cr.SecretAccessKey), Token: aws.ToString(cr.SessionToken)}

	who, err := s.stsAs(sess).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Arn) != sessARN || !strings.HasSuffix(aws.ToString(who.UserId), ":payments-api-pod") {
		t.Errorf("GetCallerIdentity = %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}

	sm := s.smAs(sess)
	v, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/payments/db")})
	if err != nil {
		t.Fatalf("session reads its secret: %v", err)
	}
	if aws.ToString(v.SecretString) != "s3cr3t-payments" {
		t.Errorf("value = %q", aws.ToString(v.SecretString))
	}

	denied := func(what string, err error) {
		t.Helper()
		if errCode(err) != "AccessDeniedException" {
			t.Errorf("%s: got %v, want AccessDeniedException", what, err)
			return
		}
		if m := errMessage(err); !strings.HasPrefix(m, "User: "+sessARN+" is not authorized to perform: ") {
			t.Errorf("%s: message %q", what, m)
		}
	}
	for _, id := range []string{"prod/payments/billing-shared", "prod/orders/db", "staging/payments/db", "prod/payments/does-not-exist"} {
		_, err := sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		denied("GetSecretValue "+id, err)
	}
	_, err = sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("prod/payments/db"), SecretString: aws.String("x")})
	denied("PutSecretValue", err)
	_, err = sm.UpdateSecret(c, &secretsmanager.UpdateSecretInput{SecretId: aws.String("prod/payments/db"), Description: aws.String("x")})
	denied("UpdateSecret", err)
	_, err = sm.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String("prod/payments/db")})
	denied("DeleteSecret", err)
	_, err = sm.TagResource(c, &secretsmanager.TagResourceInput{SecretId: aws.String("prod/payments/db"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}})
	denied("TagResource", err)
	_, err = sm.UntagResource(c, &secretsmanager.UntagResourceInput{SecretId: aws.String("prod/payments/billing-shared"), TagKeys: []string{"team"}})
	denied("UntagResource", err)
	_, err = sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("prod/payments/new"), SecretString: aws.String("x")})
	denied("CreateSecret", err)
	_, err = sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/payments/db")})
	denied("DescribeSecret", err)
	_, err = sm.ListSecrets(c, &secretsmanager.ListSecretsInput{})
	denied("ListSecrets", err)
	_, err = sm.PutResourcePolicy(c, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("prod/payments/db"), ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	denied("PutResourcePolicy", err)
	if r := s.query(t, sess, "ListUsers", nil); r.Status != 403 || r.Code() != "AccessDenied" {
		t.Errorf("ListUsers with session: %d %s", r.Status, r.Body)
	}

	// The same exchange with the AWS CLI v2 (unsigned request), and its use.
	out, stderr, err = s.awsCLI(t, creds{}, "sts", "assume-role-with-web-identity", "--role-arn", roleARN,
		"--role-session-name", "cli-session", "--web-identity-token", token, "--duration-seconds", "900")
	if err != nil {
		t.Fatalf("aws sts assume-role-with-web-identity: %v\n%s", err, stderr)
	}
	var cliOut struct {
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		AssumedRoleUser struct{ Arn string }
	}
	if err := json.Unmarshal([]byte(out), &cliOut); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cliSess := creds{ID: cliOut.Credentials.AccessKeyId, Secret: cliOut.Credentials.SecretAccessKey, Token: cliOut.Credentials.SessionToken}
	if cliOut.AssumedRoleUser.Arn != "arn:aws:sts::"+acct+":assumed-role/payments-api/cli-session" {
		t.Errorf("CLI AssumedRoleUser.Arn = %q", cliOut.AssumedRoleUser.Arn)
	}
	// The CLI runs are slow (seconds each): run the independent ones together.
	type cliRun struct {
		out, stderr string
		err         error
	}
	runs := make([]chan cliRun, 3)
	for i, args := range [][]string{
		{"secretsmanager", "get-secret-value", "--secret-id", "prod/payments/db", "--query", "SecretString", "--output", "text"},
		{"secretsmanager", "put-secret-value", "--secret-id", "prod/payments/db", "--secret-string", "x"},
		{"secretsmanager", "get-secret-value", "--secret-id", "prod/orders/db"},
	} {
		runs[i] = make(chan cliRun, 1)
		go func(ch chan cliRun, args []string) {
			o, e, err := s.awsCLI(t, cliSess, args...)
			ch <- cliRun{o, e, err}
		}(runs[i], args)
	}
	if r := <-runs[0]; r.err != nil || strings.TrimSpace(r.out) != "s3cr3t-payments" {
		t.Errorf("CLI session get-secret-value: %v %q %s", r.err, r.out, r.stderr)
	}
	if r := <-runs[1]; r.err == nil || !strings.Contains(r.stderr, "AccessDeniedException") {
		t.Errorf("CLI session put-secret-value: %v %s", r.err, r.stderr)
	}
	if r := <-runs[2]; r.err == nil || !strings.Contains(r.stderr, "AccessDeniedException") {
		t.Errorf("CLI session get-secret-value prod/orders/db: %v %s", r.err, r.stderr)
	}

	// Tokens that must not be exchanged.
	other := newOIDCIssuer(t, testIssuer) // same issuer name, different key: a forged token
	rejects := []struct {
		name, token, code, msg string
	}{
		{"another service account", idp.token(t, "system:serviceaccount:payments:worker", "sts.amazonaws.com", time.Now().Add(time.Hour)), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"another namespace", idp.token(t, "system:serviceaccount:orders:api", "sts.amazonaws.com", time.Now().Add(time.Hour)), "AccessDenied", ""},
		{"wrong audience", idp.token(t, "system:serviceaccount:payments:api", "vault", time.Now().Add(time.Hour)), "InvalidIdentityToken", "Incorrect token audience"},
		{"expired", idp.token(t, "system:serviceaccount:payments:api", "sts.amazonaws.com", time.Now().Add(-time.Minute)), "ExpiredTokenException", "Token expired: current date/time"},
		{"bad signature", other.token(t, "system:serviceaccount:payments:api", "sts.amazonaws.com", time.Now().Add(time.Hour)), "InvalidIdentityToken", ""},
		{"tampered", token[:len(token)-4] + "AAAA", "InvalidIdentityToken", ""},
		{"unknown issuer", newOIDCIssuer(t, "https://evil.example/id/X").token(t, "system:serviceaccount:payments:api", "sts.amazonaws.com", time.Now().Add(time.Hour)), "InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://evil.example/id/X"},
		{"not a JWT", "not-a-jwt", "InvalidIdentityToken", ""},
	}
	for _, r := range rejects {
		_, err := s.stsAnon().AssumeRoleWithWebIdentity(c, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN), RoleSessionName: aws.String("x1"), WebIdentityToken: aws.String(r.token),
		})
		if errCode(err) != r.code || !strings.HasPrefix(errMessage(err), r.msg) {
			t.Errorf("%s: got %v, want %s %q", r.name, err, r.code, r.msg)
		}
	}
	_, stderr, err = s.awsCLI(t, creds{}, "sts", "assume-role-with-web-identity", "--role-arn", roleARN,
		"--role-session-name", "cli-x", "--web-identity-token", rejects[0].token)
	if err == nil || !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("CLI with another service account's token: %v %s", err, stderr)
	}

	// After expiry (15 minutes; the identity clock is advanced) the
	// session's credentials are refused.
	if err := os.WriteFile(clock, []byte("16m"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/payments/db")})
	if errCode(err) != "ExpiredTokenException" || errMessage(err) != "The security token included in the request is expired" {
		t.Errorf("after expiry: %v", err)
	}
	_, err = s.stsAs(sess).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if errCode(err) != "ExpiredToken" {
		t.Errorf("STS after expiry: %v", err)
	}
	_, stderr, err = s.awsCLI(t, cliSess, "secretsmanager", "get-secret-value", "--secret-id", "prod/payments/db")
	if err == nil || !strings.Contains(stderr, "ExpiredTokenException") {
		t.Errorf("CLI after expiry: %v %s", err, stderr)
	}
	// A wrong session token is not "expired" but invalid.
	bad := sess
	bad.Token = strings.Repeat("A", len(sess.Token))
	os.WriteFile(clock, []byte("0s"), 0o600)
	_, err = s.smAs(bad).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/payments/db")})
	if errCode(err) != "UnrecognizedClientException" {
		t.Errorf("wrong session token: %v", err)
	}
	noToken := sess
	noToken.Token = ""
	_, err = s.smAs(noToken).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/payments/db")})
	if errCode(err) != "UnrecognizedClientException" {
		t.Errorf("session key without token: %v", err)
	}
}
