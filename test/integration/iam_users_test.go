package integration

import (
	"bytes"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// TestIAMUsersLeastPrivilege: a user without policies may do nothing (but
// GetCallerIdentity); a user with an attached managed policy gets exactly
// what it allows; explicit denies, boundaries and `coffer iam explain`.
func TestIAMUsersLeastPrivilege(t *testing.T) {
	s := startServer(t, serverOpts{})
	acct := s.account(t)
	c := ctx(t)
	root := s.smAs(s.root())
	for _, n := range []string{"app/config", "app/other", "db/password"} {
		if _, err := root.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v-" + n)}); err != nil {
			t.Fatal(err)
		}
	}

	// No policy: denied everything.
	nobody := s.newUser(t, "nobody")
	nsm := s.smAs(nobody)
	nobodyARN := "arn:aws:iam::" + acct + ":user/nobody"
	for name, err := range map[string]error{
		"GetSecretValue": func() error {
			_, err := nsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/config")})
			return err
		}(),
		"ListSecrets": func() error { _, err := nsm.ListSecrets(c, &secretsmanager.ListSecretsInput{}); return err }(),
		"CreateSecret": func() error {
			_, err := nsm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("mine"), SecretString: aws.String("x")})
			return err
		}(),
		"GetRandomPassword": func() error { _, err := nsm.GetRandomPassword(c, &secretsmanager.GetRandomPasswordInput{}); return err }(),
		"DeleteSecret": func() error {
			_, err := nsm.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String("db/password")})
			return err
		}(),
	} {
		if errCode(err) != "AccessDeniedException" || !strings.Contains(errMessage(err), "User: "+nobodyARN+" is not authorized to perform: secretsmanager:"+name) ||
			!strings.HasSuffix(errMessage(err), "because no identity-based policy allows the secretsmanager:"+name+" action") {
			t.Errorf("nobody %s: %v", name, err)
		}
	}
	for _, action := range []string{"ListUsers", "ListRoles", "ListPolicies", "CreateUser"} {
		r := s.query(t, nobody, action, map[string]string{"UserName": "x"})
		if r.Status != http.StatusForbidden || r.Code() != "AccessDenied" {
			t.Errorf("nobody iam:%s: %d %s", action, r.Status, r.Body)
		}
	}
	who, err := s.stsAs(nobody).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != nobodyARN || !strings.HasPrefix(aws.ToString(who.UserId), "AIDA") {
		t.Errorf("nobody GetCallerIdentity: %v %v", who, err)
	}
	if _, err := s.stsAs(nobody).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/none"), RoleSessionName: aws.String("xx")}); errCode(err) != "AccessDenied" {
		t.Errorf("nobody AssumeRole: %v", err)
	}

	// A managed policy gives exactly what it says.
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadAppConfig","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],` +
		`"Resource":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:app/config-??????"}]}`
	body := s.mustQuery(t, s.root(), "CreatePolicy", map[string]string{"PolicyName": "read-app-config", "PolicyDocument": policy, "Description": "app config"})
	policyARN := xmlField(t, body, "Arn")
	if policyARN != "arn:aws:iam::"+acct+":policy/read-app-config" {
		t.Fatalf("policy ARN %s", policyARN)
	}
	reader := s.newUser(t, "reader")
	s.mustQuery(t, s.root(), "AttachUserPolicy", map[string]string{"UserName": "reader", "PolicyArn": policyARN})
	rsm := s.smAs(reader)
	if v, err := rsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/config")}); err != nil || aws.ToString(v.SecretString) != "v-app/config" {
		t.Fatalf("reader GetSecretValue app/config: %v", err)
	}
	if _, err := rsm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/config")}); err != nil {
		t.Errorf("reader DescribeSecret app/config: %v", err)
	}
	for _, id := range []string{"app/other", "db/password"} {
		if _, err := rsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}); errCode(err) != "AccessDeniedException" {
			t.Errorf("reader GetSecretValue %s: %v", id, err)
		}
	}
	if _, err := rsm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/config"), SecretString: aws.String("x")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("reader PutSecretValue: %v", err)
	}
	if _, err := rsm.ListSecrets(c, &secretsmanager.ListSecretsInput{}); errCode(err) != "AccessDeniedException" {
		t.Errorf("reader ListSecrets: %v", err)
	}

	// An explicit deny (inline) wins, with AWS's wording.
	s.mustQuery(t, s.root(), "PutUserPolicy", map[string]string{"UserName": "reader", "PolicyName": "no-describe",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"secretsmanager:DescribeSecret","Resource":"*"}]}`})
	_, err = rsm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/config")})
	if errCode(err) != "AccessDeniedException" || !strings.HasSuffix(errMessage(err), "with an explicit deny in an identity-based policy") {
		t.Errorf("explicit deny: %v", err)
	}
	// A permissions boundary limits the managed policy.
	s.mustQuery(t, s.root(), "CreatePolicy", map[string]string{"PolicyName": "boundary-none",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`})
	s.mustQuery(t, s.root(), "PutUserPermissionsBoundary", map[string]string{"UserName": "reader", "PermissionsBoundary": "arn:aws:iam::" + acct + ":policy/boundary-none"})
	_, err = rsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/config")})
	if errCode(err) != "AccessDeniedException" || !strings.HasSuffix(errMessage(err), "because no permissions boundary allows the secretsmanager:GetSecretValue action") {
		t.Errorf("boundary: %v", err)
	}
	s.mustQuery(t, s.root(), "DeleteUserPermissionsBoundary", map[string]string{"UserName": "reader"})
	if _, err := rsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/config")}); err != nil {
		t.Errorf("after boundary removed: %v", err)
	}
	// A new default policy version takes effect at once.
	s.mustQuery(t, s.root(), "CreatePolicyVersion", map[string]string{"PolicyArn": policyARN, "SetAsDefault": "true",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:app/other-??????"}]}`})
	if _, err := rsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/config")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("v2 should no longer allow app/config: %v", err)
	}
	if _, err := rsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/other")}); err != nil {
		t.Errorf("v2 allows app/other: %v", err)
	}
	s.mustQuery(t, s.root(), "SetDefaultPolicyVersion", map[string]string{"PolicyArn": policyARN, "VersionId": "v1"})

	// Deactivated keys stop working.
	s.mustQuery(t, s.root(), "UpdateAccessKey", map[string]string{"UserName": "nobody", "AccessKeyId": nobody.ID, "Status": "Inactive"})
	if _, err := s.stsAs(nobody).GetCallerIdentity(c, &sts.GetCallerIdentityInput{}); errCode(err) != "InvalidClientTokenId" {
		t.Errorf("inactive key: %v", err)
	}

	// Offline explanation (the data directory is free once the server stops).
	s.stop(syscall.SIGTERM)
	run := func(args ...string) string {
		cmd := exec.Command(binary, append([]string{"iam", "explain", "--data-dir", s.DataDir}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("coffer iam explain %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	out := run("--principal", "arn:aws:iam::"+acct+":user/reader", "--action", "secretsmanager:GetSecretValue", "--resource", "arn:aws:secretsmanager:us-east-1:"+acct+":secret:app/config-abcdef")
	for _, want := range []string{"Decision:  ALLOWED", "allowed by an identity-based policy", `Allow  statement 0 (Sid "ReadAppConfig") of ` + policyARN} {
		if !strings.Contains(out, want) {
			t.Errorf("explain allowed: missing %q in\n%s", want, out)
		}
	}
	out = run("--principal", "arn:aws:iam::"+acct+":user/reader", "--action", "secretsmanager:DescribeSecret", "--resource", "arn:aws:secretsmanager:us-east-1:"+acct+":secret:app/config-abcdef")
	for _, want := range []string{"Decision:  DENIED", "explicit deny in an identity-based policy", "Deny   statement 0 of user/reader inline policy no-describe", "Message:   User: arn:aws:iam::" + acct + ":user/reader is not authorized"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain denied: missing %q in\n%s", want, out)
		}
	}
	out = run("--principal", nobodyARN, "--action", "secretsmanager:ListSecrets")
	if !strings.Contains(out, "Decision:  DENIED") || !strings.Contains(out, "no identity-based policy allows") {
		t.Errorf("explain nobody:\n%s", out)
	}
}

// TestIAMAssumeRole: AssumeRole with a trust policy naming a user, an
// ExternalId condition, session tags as aws:PrincipalTag, a session policy
// that narrows the role, duration bounds and role chaining.
func TestIAMAssumeRole(t *testing.T) {
	s := startServer(t, serverOpts{})
	acct := s.account(t)
	c := ctx(t)
	root := s.smAs(s.root())
	for _, n := range []string{"team/blue/a", "team/red/a"} {
		if _, err := root.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v")}); err != nil {
			t.Fatal(err)
		}
	}
	dev := s.newUser(t, "dev")
	devARN := "arn:aws:iam::" + acct + ":user/dev"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + devARN + `"},"Action":["sts:AssumeRole","sts:TagSession"],` +
		`"Condition":{"StringEquals":{"sts:ExternalId":"ext-123"}}}]}`
	s.mustQuery(t, s.root(), "CreateRole", map[string]string{"RoleName": "team-reader", "AssumeRolePolicyDocument": trust, "MaxSessionDuration": "7200",
		"Tags.member.1.Key": "dept", "Tags.member.1.Value": "eng"})
	// Secrets of the caller's team only: the team comes from a session tag.
	s.mustQuery(t, s.root(), "PutRolePolicy", map[string]string{"RoleName": "team-reader", "PolicyName": "by-team", "PolicyDocument": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:team/${aws:PrincipalTag/team}/*",` +
		`"Condition":{"StringEquals":{"aws:PrincipalTag/dept":"eng"}}},` +
		`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`})
	roleARN := "arn:aws:iam::" + acct + ":role/team-reader"
	st := s.stsAs(dev)

	if _, err := st.AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")}); errCode(err) != "AccessDenied" {
		t.Errorf("without ExternalId: %v", err)
	}
	if _, err := st.AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123"), DurationSeconds: aws.Int32(7201)}); errCode(err) != "ValidationError" ||
		errMessage(err) != "The requested DurationSeconds exceeds the MaxSessionDuration set for this role." {
		t.Errorf("too long: %v", err)
	}
	if _, err := st.AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123"), DurationSeconds: aws.Int32(899)}); errCode(err) != "ValidationError" {
		t.Errorf("too short: %v", err)
	}
	if _, err := s.stsAs(s.root()).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")}); errCode(err) != "AccessDenied" {
		t.Errorf("root AssumeRole: %v", err)
	}
	ar, err := st.AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("blue-dev"), ExternalId: aws.String("ext-123"),
		DurationSeconds: aws.Int32(7200), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if aws.ToInt32(ar.PackedPolicySize) <= 0 {
		t.Errorf("PackedPolicySize = %v", ar.PackedPolicySize)
	}
	sess := creds{ID: aws.ToString(ar.Credentials.AccessKeyId), Secret: aws.ToString(ar.Credentials.SecretAccessKey), Token: aws.ToString(ar.Credentials.SessionToken)}
	ssm := s.smAs(sess)
	if _, err := ssm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("team/blue/a")}); err != nil {
		t.Errorf("blue session reads team/blue/a: %v", err)
	}
	if _, err := ssm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("team/red/a")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("blue session reads team/red/a: %v", err)
	}

	// A session policy narrows the role (DescribeSecret is no longer allowed).
	ar2, err := st.AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("narrow"), ExternalId: aws.String("ext-123"),
		Tags:   []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}},
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","sts:AssumeRole"],"Resource":"*"}]}`)})
	if err != nil {
		t.Fatalf("AssumeRole with session policy: %v", err)
	}
	narrow := creds{ID: aws.ToString(ar2.Credentials.AccessKeyId), Secret: aws.ToString(ar2.Credentials.SecretAccessKey), Token: aws.ToString(ar2.Credentials.SessionToken)}
	nsm := s.smAs(narrow)
	if _, err := nsm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("team/red/a")}); err != nil {
		t.Errorf("narrow session GetSecretValue: %v", err)
	}
	_, err = nsm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("team/red/a")})
	if errCode(err) != "AccessDeniedException" || !strings.HasSuffix(errMessage(err), "because no session policy allows the secretsmanager:DescribeSecret action") {
		t.Errorf("narrow session DescribeSecret: %v", err)
	}
	if _, err := st.AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("bad"), ExternalId: aws.String("ext-123"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`)}); errCode(err) != "MalformedPolicyDocument" {
		t.Errorf("malformed session policy: %v", err)
	}

	// Role chaining: the trust policy must name the caller (a session of
	// the role itself, once the trust policy says so), and the session is
	// capped at one hour.
	if _, err := s.stsAs(sess).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chain")}); errCode(err) != "AccessDenied" {
		t.Errorf("chain before the trust policy names the role: %v", err)
	}
	s.mustQuery(t, s.root(), "UpdateAssumeRolePolicy", map[string]string{"RoleName": "team-reader", "PolicyDocument": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"` + devARN + `"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"ext-123"}}},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"sts:AssumeRole"}]}`})
	_, err = s.stsAs(sess).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(3601)})
	if errCode(err) != "ValidationError" || errMessage(err) != "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining." {
		t.Errorf("chained 3601s: %v", err)
	}
	ch, err := s.stsAs(sess).AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chain")})
	if err != nil {
		t.Fatalf("chained AssumeRole: %v", err)
	}
	if d := time.Until(aws.ToTime(ch.Credentials.Expiration)); d > time.Hour {
		t.Errorf("chained session lasts %v", d)
	}
	// The CLI sees the same.
	requireTool(t, "/usr/bin/aws")
	out, stderr, err := s.awsCLI(t, dev, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "cli", "--external-id", "ext-123", "--tags", "Key=team,Value=blue")
	if err != nil || !strings.Contains(out, `"AccessKeyId": "ASIA`) {
		t.Errorf("aws sts assume-role: %v %s %s", err, out, stderr)
	}
}

// TestIAMResourcePolicies: a resource policy grants another user access;
// an explicit deny in it wins over an identity allow; BlockPublicPolicy;
// ValidateResourcePolicy.
func TestIAMResourcePolicies(t *testing.T) {
	s := startServer(t, serverOpts{})
	acct := s.account(t)
	c := ctx(t)
	root := s.smAs(s.root())
	out, err := root.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("shared/x"), SecretString: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	friend := s.newUser(t, "friend")
	owner := s.newUser(t, "owner")
	s.mustQuery(t, s.root(), "PutUserPolicy", map[string]string{"UserName": "owner", "PolicyName": "all-sm",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`})
	friendARN := "arn:aws:iam::" + acct + ":user/friend"
	ownerARN := "arn:aws:iam::" + acct + ":user/owner"

	if _, err := s.smAs(friend).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); errCode(err) != "AccessDeniedException" {
		t.Fatalf("friend before the resource policy: %v", err)
	}
	pol := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"GrantFriend","Effect":"Allow","Principal":{"AWS":"` + friendARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"},` +
		`{"Sid":"DenyOwnerRead","Effect":"Deny","Principal":{"AWS":"` + ownerARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	if _, err := s.smAs(owner).PutResourcePolicy(c, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("shared/x"), ResourcePolicy: aws.String(pol), BlockPublicPolicy: aws.Bool(true)}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	v, err := s.smAs(friend).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(v.SecretString) != "shared" {
		t.Errorf("friend via resource policy: %v", err)
	}
	if _, err := s.smAs(friend).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)}); errCode(err) != "AccessDeniedException" {
		t.Errorf("friend DescribeSecret (not granted): %v", err)
	}
	_, err = s.smAs(owner).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared/x")})
	if errCode(err) != "AccessDeniedException" || !strings.HasSuffix(errMessage(err), "with an explicit deny in a resource-based policy") {
		t.Errorf("owner denied by resource policy: %v", err)
	}
	if _, err := s.smAs(owner).DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("shared/x")}); err != nil {
		t.Errorf("owner DescribeSecret: %v", err)
	}
	gp, err := s.smAs(owner).GetResourcePolicy(c, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("shared/x")})
	if err != nil || aws.ToString(gp.ResourcePolicy) != pol {
		t.Errorf("GetResourcePolicy: %v %v", gp, err)
	}

	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	_, err = root.PutResourcePolicy(c, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("shared/x"), ResourcePolicy: aws.String(public), BlockPublicPolicy: aws.Bool(true)})
	if errCode(err) != "PublicPolicyException" || errMessage(err) != "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret." {
		t.Errorf("BlockPublicPolicy: %v", err)
	}
	_, err = root.PutResourcePolicy(c, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("shared/x"), ResourcePolicy: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
	if errCode(err) != "MalformedPolicyDocumentException" {
		t.Errorf("malformed resource policy: %v", err)
	}
	vr, err := root.ValidateResourcePolicy(c, &secretsmanager.ValidateResourcePolicyInput{SecretId: aws.String("shared/x"), ResourcePolicy: aws.String(public)})
	if err != nil || vr.PolicyValidationPassed || len(vr.ValidationErrors) == 0 || aws.ToString(vr.ValidationErrors[0].CheckName) != "BROAD_ACCESS_CHECK" {
		t.Errorf("ValidateResourcePolicy public: %+v %v", vr, err)
	}
	vr, err = root.ValidateResourcePolicy(c, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String(pol)})
	if err != nil || !vr.PolicyValidationPassed {
		t.Errorf("ValidateResourcePolicy ok: %+v %v", vr, err)
	}
	// Without BlockPublicPolicy a public policy is stored (AWS accepts it),
	// and then anyone authenticated in the account may read.
	if _, err := root.PutResourcePolicy(c, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("shared/x"), ResourcePolicy: aws.String(public)}); err != nil {
		t.Fatalf("PutResourcePolicy public: %v", err)
	}
	stranger := s.newUser(t, "stranger")
	if _, err := s.smAs(stranger).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); err != nil {
		t.Errorf("stranger with public policy: %v", err)
	}
	if _, err := root.DeleteResourcePolicy(c, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("shared/x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.smAs(stranger).GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); errCode(err) != "AccessDeniedException" {
		t.Errorf("stranger after DeleteResourcePolicy: %v", err)
	}
	gp, err = root.GetResourcePolicy(c, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("shared/x")})
	if err != nil || gp.ResourcePolicy != nil {
		t.Errorf("GetResourcePolicy after delete: %+v %v", gp, err)
	}
	_ = smtypes.Tag{}
}

// TestIAMQueryAPIErrors: IAM's error codes, statuses and XML shape.
func TestIAMQueryAPIErrors(t *testing.T) {
	s := startServer(t, serverOpts{})
	acct := s.account(t)
	r := s.query(t, s.root(), "GetUser", map[string]string{"UserName": "ghost"})
	if r.Status != 404 || r.Code() != "NoSuchEntity" || !strings.Contains(r.Body, "<Type>Sender</Type>") || !strings.Contains(r.Body, "<Message>The user with name ghost cannot be found.</Message>") || !strings.Contains(r.Body, "<RequestId>") {
		t.Errorf("NoSuchEntity: %d %s", r.Status, r.Body)
	}
	s.mustQuery(t, s.root(), "CreateUser", map[string]string{"UserName": "dup", "Path": "/team/"})
	if r := s.query(t, s.root(), "CreateUser", map[string]string{"UserName": "DUP"}); r.Status != 409 || r.Code() != "EntityAlreadyExists" {
		t.Errorf("EntityAlreadyExists (names are case-insensitive): %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "CreateUser", map[string]string{"UserName": "bad name"}); r.Status != 400 || r.Code() != "ValidationError" {
		t.Errorf("ValidationError: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "CreateUser", nil); r.Status != 400 || !strings.Contains(r.Body, "Value null at &#39;userName&#39;") && !strings.Contains(r.Body, "Value null at 'userName'") {
		t.Errorf("missing UserName: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "PutUserPolicy", map[string]string{"UserName": "dup", "PolicyName": "p", "PolicyDocument": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`}); r.Status != 400 || r.Code() != "MalformedPolicyDocument" {
		t.Errorf("MalformedPolicyDocument: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "CreatePolicy", map[string]string{"PolicyName": "old", "PolicyDocument": `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`}); r.Code() != "MalformedPolicyDocument" || !strings.Contains(r.Body, "Policy document must be version 2012-10-17 or greater.") {
		t.Errorf("old version: %d %s", r.Status, r.Body)
	}
	s.mustQuery(t, s.root(), "CreateAccessKey", map[string]string{"UserName": "dup"})
	s.mustQuery(t, s.root(), "CreateAccessKey", map[string]string{"UserName": "dup"})
	if r := s.query(t, s.root(), "CreateAccessKey", map[string]string{"UserName": "dup"}); r.Status != 409 || r.Code() != "LimitExceeded" {
		t.Errorf("LimitExceeded: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "DeleteUser", map[string]string{"UserName": "dup"}); r.Status != 409 || r.Code() != "DeleteConflict" {
		t.Errorf("DeleteConflict: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "AttachUserPolicy", map[string]string{"UserName": "dup", "PolicyArn": "arn:aws:iam::" + acct + ":policy/nope"}); r.Status != 404 || r.Code() != "NoSuchEntity" {
		t.Errorf("attach missing policy: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, s.root(), "NoSuchAction", nil); r.Status != 400 || r.Code() != "InvalidAction" {
		t.Errorf("InvalidAction: %d %s", r.Status, r.Body)
	}
	bad := s.root()
	bad.Secret = "wrong" + bad.Secret[5:]
	if r := s.query(t, bad, "ListUsers", nil); r.Status != 403 || r.Code() != "SignatureDoesNotMatch" {
		t.Errorf("SignatureDoesNotMatch: %d %s", r.Status, r.Body)
	}
	if r := s.query(t, creds{ID: "AKIAAAAAAAAAAAAAAAAA", Secret: "x"}, "ListUsers", nil); r.Status != 403 || r.Code() != "InvalidClientTokenId" {
		t.Errorf("InvalidClientTokenId: %d %s", r.Status, r.Body)
	}
	body := s.mustQuery(t, s.root(), "GetUser", map[string]string{"UserName": "dup"})
	if !strings.HasPrefix(body, `<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User><Path>/team/</Path><UserName>dup</UserName>`) ||
		!strings.Contains(body, "<Arn>arn:aws:iam::"+acct+":user/team/dup</Arn>") || strings.Contains(body, "<Tags>") {
		t.Errorf("GetUser XML: %s", body)
	}
}
