package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM and STS (query protocol) are recorded like the JSON APIs; real IAM
// users are denied by policy and role sessions appear as AssumedRole with
// their session context. Secret access keys and session tokens never reach
// a sink; the session token's HMAC links the AssumeRole event to the
// requests made with the session.
func TestAuditEventsIAMAndSTS(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, serverOpts{dataDir: dir, args: []string{"--audit-file", filepath.Join(dir, "audit.jsonl"), "--audit-stdout"}})
	c := ctx(t)
	acct := s.account(t)
	if _, err := s.sm().CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("iam/a"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	dev := s.newUser(t, "audit-dev")
	devARN := "arn:aws:iam::" + acct + ":user/audit-dev"
	// Validation error and denial on the IAM API itself.
	if r := s.query(t, s.root(), "CreateUser", map[string]string{"UserName": strings.Repeat("x", 65)}); r.Code() != "ValidationError" {
		t.Fatalf("long user name: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, dev, "CreateUser", map[string]string{"UserName": "mallory"}); r.Code() != "AccessDenied" {
		t.Fatalf("dev CreateUser: %d %s", r.Status, r.Body)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + devARN + `"},"Action":"sts:AssumeRole"}]}`
	s.mustQuery(t, s.root(), "CreateRole", map[string]string{"RoleName": "reader", "AssumeRolePolicyDocument": trust,
		"Tags.member.1.Key": "team", "Tags.member.1.Value": "blue"})
	s.mustQuery(t, s.root(), "PutRolePolicy", map[string]string{"RoleName": "reader", "PolicyName": "read", "PolicyDocument": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`})
	s.mustQuery(t, s.root(), "PutUserPolicy", map[string]string{"UserName": "audit-dev", "PolicyName": "assume", "PolicyDocument": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`})

	// A real IAM user without the permission is denied (SM and KMS).
	if _, err := s.smAs(dev).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("iam/a")}); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("dev reads the secret: %v", err)
	}
	devKMS := kms.NewFromConfig(s.cfgFor(dev), func(o *kms.Options) { o.BaseEndpoint = aws.String(s.URL) })
	if _, err := devKMS.ListKeys(c, &kms.ListKeysInput{}); apiCode(err) != "AccessDeniedException" {
		t.Fatalf("dev lists KMS keys: %v", err)
	}
	// A role session reads it.
	ar, err := s.stsAs(dev).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/reader"), RoleSessionName: aws.String("audit-session")})
	if err != nil {
		t.Fatal(err)
	}
	sess := creds{ID: *ar.Credentials.AccessKeyId, Secret: *ar.Credentials.SecretAccessKey, Token: *ar.Credentials.SessionToken}
	if _, err := s.smAs(sess).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("iam/a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.stsAs(sess).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}

	evs := s.auditEvents(t)
	checkFields(t, "CreateUser", findEvent(evs, map[string]any{"eventName": "CreateUser", "errorCode": nil}), map[string]any{
		"eventSource": "iam.amazonaws.com", "readOnly": false, "requestParameters.userName": "audit-dev", "userIdentity.type": "Root",
		"resources.0.type": "AWS::IAM::User",
	})
	checkFields(t, "CreateUser validation", findEvent(evs, map[string]any{"eventName": "CreateUser", "errorCode": "ValidationError"}), map[string]any{
		"userIdentity.type": "Root",
	})
	checkFields(t, "CreateUser denied", findEvent(evs, map[string]any{"eventName": "CreateUser", "errorCode": "AccessDenied"}), map[string]any{
		"userIdentity.type": "IAMUser", "userIdentity.userName": "audit-dev", "userIdentity.accessKeyId": dev.ID, "requestParameters.userName": "mallory",
	})
	key := findEvent(evs, map[string]any{"eventName": "CreateAccessKey"})
	checkFields(t, "CreateAccessKey", key, map[string]any{
		"responseElements.accessKey.accessKeyId": dev.ID, "responseElements.accessKey.secretAccessKey": nil, "responseElements.accessKey.userName": "audit-dev",
	})
	checkFields(t, "CreateRole", findEvent(evs, map[string]any{"eventName": "CreateRole"}), map[string]any{
		"requestParameters.tags.0.key": "team", "requestParameters.tags.0.value": "blue", "requestParameters.roleName": "reader",
	})
	checkFields(t, "SM denied", findEvent(evs, map[string]any{"eventName": "GetSecretValue", "errorCode": "AccessDeniedException"}), map[string]any{
		"userIdentity.type": "IAMUser", "userIdentity.arn": devARN,
	})
	checkFields(t, "KMS denied", findEvent(evs, map[string]any{"eventName": "ListKeys", "errorCode": "AccessDeniedException"}), map[string]any{
		"eventSource": "kms.amazonaws.com", "userIdentity.userName": "audit-dev",
	})
	assumed := findEvent(evs, map[string]any{"eventName": "AssumeRole", "errorCode": nil})
	checkFields(t, "AssumeRole", assumed, map[string]any{
		"eventSource": "sts.amazonaws.com", "requestParameters.roleSessionName": "audit-session",
		"responseElements.credentials.accessKeyId": sess.ID, "responseElements.credentials.secretAccessKey": nil,
	})
	tokenHMAC, _ := jsonPath(assumed, "responseElements.credentials.sessionToken").(string)
	if !strings.HasPrefix(tokenHMAC, "hmac-sha256:") {
		t.Errorf("AssumeRole session token recorded as %q", tokenHMAC)
	}
	read := findEvent(evs, map[string]any{"eventName": "GetSecretValue", "errorCode": nil, "userIdentity.accessKeyId": sess.ID})
	checkFields(t, "session read", read, map[string]any{
		"userIdentity.type": "AssumedRole", "userIdentity.arn": "arn:aws:sts::" + acct + ":assumed-role/reader/audit-session",
		"userIdentity.sessionContext.sessionIssuer.type": "Role", "userIdentity.sessionContext.sessionIssuer.userName": "reader",
		"userIdentity.sessionContext.sessionIssuer.arn":           "arn:aws:iam::" + acct + ":role/reader",
		"userIdentity.sessionContext.attributes.mfaAuthenticated": "false",
		"additionalEventData.securityToken":                       tokenHMAC, // the same session
	})
	checkFields(t, "GetCallerIdentity", findEvent(evs, map[string]any{"eventName": "GetCallerIdentity", "userIdentity.accessKeyId": sess.ID}), map[string]any{
		"eventSource": "sts.amazonaws.com", "readOnly": true, "responseElements": nil,
	})
	// LookupEvents finds the session's events by its user name (the session name).
	_, _, body := s.callJSON(t, s.KeyID, s.Secret, "", "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
		`{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"audit-session"}]}`)
	if n := strings.Count(string(body), `"EventName":"`); n != 2 {
		t.Errorf("events of the session: %d: %s", n, body)
	}

	stdout := s.stdout.String()
	s.stop(syscall.SIGTERM)
	var hay bytes.Buffer
	hay.WriteString(stdout)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "credentials" && !e.IsDir() {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			hay.Write(b)
		}
	}
	for what, secret := range map[string]string{"user secret key": dev.Secret, "session secret key": sess.Secret, "session token": sess.Token} {
		if bytes.Contains(hay.Bytes(), []byte(secret)) {
			t.Errorf("the %s is in an audit sink", what)
		}
	}
}

// AssumeRoleWithWebIdentity (unsigned) is recorded with the web identity
// as the caller; the token itself never is.
func TestAuditWebIdentity(t *testing.T) {
	s := startServer(t, serverOpts{})
	c := ctx(t)
	acct := s.account(t)
	idp := newOIDCIssuer(t, "https://oidc.audit.test/id/CLUSTER")
	providerARN := "arn:aws:iam::" + acct + ":oidc-provider/oidc.audit.test/id/CLUSTER"
	s.mustQuery(t, s.root(), "CreateOpenIDConnectProvider", map[string]string{"Url": idp.URL, "ClientIDList.member.1": "sts.amazonaws.com",
		"ThumbprintList.member.1": strings.Repeat("ab", 20), "Tags.member.1.Key": "coffer:jwks-uri", "Tags.member.1.Value": idp.JWKS})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`
	s.mustQuery(t, s.root(), "CreateRole", map[string]string{"RoleName": "workload", "AssumeRolePolicyDocument": trust})
	s.mustQuery(t, s.root(), "PutRolePolicy", map[string]string{"RoleName": "workload", "PolicyName": "p", "PolicyDocument": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}]}`})
	const sub = "system:serviceaccount:apps:web"
	token := idp.token(t, sub, "sts.amazonaws.com", time.Now().Add(time.Hour))
	out, err := s.stsAnon().AssumeRoleWithWebIdentity(c, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String("arn:aws:iam::" + acct + ":role/workload"), RoleSessionName: aws.String("web-1"), WebIdentityToken: aws.String(token)})
	if err != nil {
		t.Fatal(err)
	}
	sess := creds{ID: *out.Credentials.AccessKeyId, Secret: *out.Credentials.SecretAccessKey, Token: *out.Credentials.SessionToken}
	if _, err := s.smAs(sess).ListSecrets(c, &secretsmanager.ListSecretsInput{}); err != nil {
		t.Fatal(err)
	}
	// A forged token is refused and recorded.
	if _, err := s.stsAnon().AssumeRoleWithWebIdentity(c, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String("arn:aws:iam::" + acct + ":role/workload"), RoleSessionName: aws.String("web-2"), WebIdentityToken: aws.String(token + "x")}); err == nil {
		t.Fatal("forged token accepted")
	}
	evs := s.auditEvents(t)
	checkFields(t, "AssumeRoleWithWebIdentity", findEvent(evs, map[string]any{"eventName": "AssumeRoleWithWebIdentity", "errorCode": nil}), map[string]any{
		"userIdentity.type": "WebIdentityUser", "userIdentity.userName": sub, "userIdentity.identityProvider": providerARN,
		"requestParameters.roleSessionName": "web-1", "requestParameters.webIdentityToken": nil,
		"responseElements.subjectFromWebIdentityToken": sub, "responseElements.credentials.secretAccessKey": nil,
	})
	checkFields(t, "forged token", findEvent(evs, map[string]any{"eventName": "AssumeRoleWithWebIdentity", "requestParameters.roleSessionName": "web-2"}), map[string]any{
		"userIdentity.type": "Unknown", "requestParameters.webIdentityToken": nil,
	})
	checkFields(t, "session", findEvent(evs, map[string]any{"eventName": "ListSecrets"}), map[string]any{
		"userIdentity.type": "AssumedRole", "userIdentity.sessionContext.webIdFederationData.federatedProvider": providerARN,
	})
	if f := findEvent(evs, map[string]any{"eventName": "AssumeRoleWithWebIdentity", "requestParameters.roleSessionName": "web-2"}); f != nil && f["errorCode"] == nil {
		t.Error("forged token recorded as a success")
	}
	s.stop(syscall.SIGTERM)
	db, _ := os.ReadFile(filepath.Join(s.DataDir, "coffer.db"))
	sig := token[strings.LastIndexByte(token, '.')+1:]
	if bytes.Contains(db, []byte(sig)) || bytes.Contains(db, []byte(sess.Token)) || bytes.Contains(db, []byte(sess.Secret)) {
		t.Error("a web identity token, session token or session secret is in the database")
	}
}
