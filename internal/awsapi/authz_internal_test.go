package awsapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

const testAccount = "111122223333"

// testEnv is an in-process server on a temporary database.
type testEnv struct {
	t    testing.TB
	srv  *Server
	http *httptest.Server
	db   *sqlite.DB
	root *keyring.Root
	id   *identity.Service
	kms  *kms.Service
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw := make([]byte, 32)
	rand.Read(raw)
	root, err := keyring.NewRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	k := kms.New(kms.Config{Store: db, Root: root, Region: "us-east-1", Account: testAccount})
	sec := secrets.New(secrets.Config{Store: db, Keys: k, Region: "us-east-1", Account: testAccount})
	id := identity.New(identity.Config{Store: db, Root: root, Account: testAccount, Region: "us-east-1"})
	srv := New(Config{Region: "us-east-1", Account: testAccount, Secrets: sec, KMS: k, Identity: id, Units: db})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &testEnv{t: t, srv: srv, http: hs, db: db, root: root, id: id, kms: k}
}

// user creates an IAM user with inline policies and returns its key pair.
func (e *testEnv) user(name string, policies ...string) identity.Credentials {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.id.CreateEntity(ctx, identity.CreateEntityInput{Kind: identity.KindUser, Name: name}); err != nil {
		e.t.Fatal(err)
	}
	for i, p := range policies {
		if err := e.id.PutInlinePolicy(ctx, identity.KindUser, name, fmt.Sprintf("p%d", i), p); err != nil {
			e.t.Fatal(err)
		}
	}
	k, secret, err := e.id.CreateAccessKey(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return identity.Credentials{AccessKeyID: k.ID, SecretAccessKey: secret}
}

func (e *testEnv) sm(c identity.Credentials) *secretsmanager.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""), RetryMaxAttempts: 1}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(e.http.URL) })
}

// customerKey stores an enabled customer managed key with the given
// policy (the KMS API that creates keys lives elsewhere; the material is
// wrapped the way kms.Service wraps it).
func (e *testEnv) customerKey(policy string) *kms.Key {
	e.t.Helper()
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, time.Now().UnixNano()&0xffffffffffff)
	raw := envelope.NewDataKey()
	now := time.Now().UTC()
	k := &kms.Key{ID: id, ARN: e.kms.KeyARN(id), Account: testAccount, State: kms.StateEnabled, Manager: kms.ManagerCustomer,
		Origin: "AWS_KMS", Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT", CreatedAt: now, Policy: policy,
		Materials: []kms.Material{{Seq: 1, ID: strings.Repeat("ab", 32), Wrapped: e.root.Wrap("kms-material", id+"/1", raw), RootKeyID: e.root.ID(), CreatedAt: now}}}
	if err := e.db.UpdateKey(context.Background(), id, func(*kms.Key) (*kms.Key, error) { return k, nil }); err != nil {
		e.t.Fatal(err)
	}
	return k
}

// callOf returns a call for an access key, as authenticate would.
func (e *testEnv) callOf(c identity.Credentials, service string, input validator) *call {
	e.t.Helper()
	_, caller, err := e.id.SigningKey(context.Background(), c.AccessKeyID, time.Now().UTC().Format("20060102"), "us-east-1", service)
	if err != nil {
		e.t.Fatal(err)
	}
	return &call{caller: caller, service: service, input: input, sourceIP: "127.0.0.1", r: httptest.NewRequest(http.MethodPost, "/", nil)}
}

func code(err error) string {
	var ae smithy.APIError
	if err == nil {
		return ""
	}
	if ae2, ok := err.(*apiError); ok {
		return ae2.Type
	}
	if ok := asAPIError(err, &ae); ok {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func asAPIError(err error, ae *smithy.APIError) bool {
	for err != nil {
		if a, ok := err.(smithy.APIError); ok {
			*ae = a
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

const allSM = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`
const allKMS = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`

// TestKeyPolicyEnforcement: KMS key policies as AWS enforces them, for
// Secrets Manager's use of a key on the caller's behalf and for direct KMS
// calls (authorizeKMS, the hook KMS handlers call).
func TestKeyPolicyEnforcement(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	rootARN := "arn:aws:iam::" + testAccount + ":root"
	admin := e.user("admin", allSM, allKMS)
	smOnly := e.user("smonly", allSM)
	adminARN := "arn:aws:iam::" + testAccount + ":user/admin"

	delegating := e.customerKey(`{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"` + rootARN + `"},"Action":"kms:*","Resource":"*"}]}`)
	// A key whose policy names only one other user: IAM policies do not count.
	closed := e.customerKey(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + testAccount + `:user/keyadmin"},"Action":"kms:*","Resource":"*"}]}`)
	// A key usable by admin only through Secrets Manager.
	viaSM := e.customerKey(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + adminARN + `"},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com","kms:CallerAccount":"` + testAccount + `"}}}]}`)

	// Direct KMS calls (authorizeKMS).
	direct := []struct {
		name   string
		who    identity.Credentials
		key    *kms.Key
		action string
		want   string
	}{
		{"IAM allows, key delegates", admin, delegating, "kms:Decrypt", ""},
		{"IAM silent, key delegates", smOnly, delegating, "kms:Decrypt", "AccessDeniedException"},
		{"IAM allows, key does not delegate", admin, closed, "kms:Decrypt", "AccessDeniedException"},
		{"key allows only via Secrets Manager", admin, viaSM, "kms:Decrypt", "AccessDeniedException"},
		{"no key resource", admin, nil, "kms:ListKeys", ""},
		{"no key resource, no IAM", smOnly, nil, "kms:ListKeys", "AccessDeniedException"},
	}
	for _, d := range direct {
		err := e.srv.authorizeKMS(ctx, e.callOf(d.who, svcKMS, nil), d.action, d.key, func(k *CondKeys) {
			k.EncryptionContext(map[string]string{"purpose": "test"})
		})
		if got := code(err); got != d.want {
			t.Errorf("%s: got %q, want %q", d.name, got, d.want)
		}
	}
	err := e.srv.authorizeKMS(ctx, e.callOf(admin, svcKMS, nil), "kms:Decrypt", closed, nil)
	if msg := err.(*apiError).Message; msg != "User: "+adminARN+" is not authorized to perform: kms:Decrypt on resource: "+closed.ARN+" because no resource-based policy allows the kms:Decrypt action" {
		t.Errorf("closed key message: %q", msg)
	}
	// The AWS managed key allows use only through Secrets Manager.
	managed, err := e.kms.Resolve(ctx, kms.SecretsManagerAlias, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := code(e.srv.authorizeKMS(ctx, e.callOf(admin, svcKMS, nil), "kms:Decrypt", managed, nil)); got != "AccessDeniedException" {
		t.Errorf("direct use of aws/secretsmanager: %q", got)
	}
	if got := code(e.srv.authorizeKMS(ctx, e.callOf(admin, svcKMS, nil), "kms:DescribeKey", managed, nil)); got != "" {
		t.Errorf("DescribeKey of aws/secretsmanager: %q", got)
	}

	// Secrets Manager using keys for the caller.
	sm := []struct {
		name string
		who  identity.Credentials
		key  string
		want string
	}{
		{"default key, SM permissions only", smOnly, "", ""},
		{"delegating key, IAM allows kms", admin, delegating.ARN, ""},
		{"delegating key, no kms permission", smOnly, delegating.ARN, "AccessDeniedException: Access to KMS is not allowed"},
		{"closed key", admin, closed.ARN, "AccessDeniedException: Access to KMS is not allowed"},
		{"key usable via Secrets Manager", admin, viaSM.ARN, ""},
	}
	for i, c := range sm {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("s%d", i)), SecretString: aws.String("v")}
		if c.key != "" {
			in.KmsKeyId = aws.String(c.key)
		}
		_, err := e.sm(c.who).CreateSecret(ctx, in)
		if got := code(err); got != c.want {
			t.Errorf("CreateSecret, %s: got %q, want %q", c.name, got, c.want)
			continue
		}
		if err == nil {
			v, err := e.sm(c.who).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: in.Name})
			if err != nil || aws.ToString(v.SecretString) != "v" {
				t.Errorf("GetSecretValue, %s: %v", c.name, err)
			}
		}
	}
	// A secret under the delegating key: readable by admin, not by smonly.
	if _, err := e.sm(smOnly).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s1")}); code(err) != "AccessDeniedException: Access to KMS is not allowed" {
		t.Errorf("smonly reads a secret under a customer key: %v", err)
	}
}

// TestSecretsManagerConditionKeys checks the keys built for Secrets
// Manager requests: request keys only from parameters sent.
func TestSecretsManagerConditionKeys(t *testing.T) {
	sec := &secrets.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:a-AbCdEf", Name: "a", Tags: []secrets.Tag{{Key: "Team", Value: "blue"}}}
	cases := []struct {
		in   validator
		key  string
		want []string
	}{
		{&smapi.GetSecretValueInput{SecretId: aws.String("a")}, "secretsmanager:secretid", []string{"a"}},
		{&smapi.GetSecretValueInput{SecretId: aws.String("a")}, "secretsmanager:versionstage", nil},
		{&smapi.GetSecretValueInput{SecretId: aws.String("a"), VersionStage: aws.String("AWSCURRENT")}, "secretsmanager:versionstage", []string{"AWSCURRENT"}},
		{&smapi.GetSecretValueInput{}, "aws:resourcetag/team", []string{"blue"}},
		{&smapi.GetSecretValueInput{}, "secretsmanager:resourcetag/team", []string{"blue"}},
		{&smapi.DeleteSecretInput{ForceDeleteWithoutRecovery: aws.Bool(true), RecoveryWindowInDays: aws.Int64(7)}, "secretsmanager:forcedeletewithoutrecovery", []string{"true"}},
		{&smapi.DeleteSecretInput{RecoveryWindowInDays: aws.Int64(7)}, "secretsmanager:recoverywindowindays", []string{"7"}},
		{&smapi.TagResourceInput{Tags: []smapi.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}, "aws:requesttag/env", []string{"prod"}},
		{&smapi.TagResourceInput{Tags: []smapi.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}, "aws:tagkeys", []string{"env"}},
		{&smapi.UntagResourceInput{TagKeys: []string{"a", "b"}}, "aws:tagkeys", []string{"a", "b"}},
		{&smapi.CreateSecretInput{Name: aws.String("n"), KmsKeyId: aws.String("alias/x"), Description: aws.String("d")}, "secretsmanager:kmskeyid", []string{"alias/x"}},
		{&smapi.CreateSecretInput{Name: aws.String("n")}, "secretsmanager:name", []string{"n"}},
		{&smapi.PutResourcePolicyInput{BlockPublicPolicy: aws.Bool(true)}, "secretsmanager:blockpublicpolicy", []string{"true"}},
		{&smapi.UpdateSecretVersionStageInput{VersionStage: aws.String("X")}, "secretsmanager:versionstage", []string{"X"}},
	}
	for i, c := range cases {
		ck := getCondKeys()
		smKeys(ck, c.in, sec)
		got, ok := ck.Lookup(c.key)
		if !ok {
			got = nil
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%d %T %s = %v, want %v", i, c.in, c.key, got, c.want)
		}
		putCondKeys(ck)
	}
}

// BenchmarkAuthorize measures the authorization step of a Secrets
// Manager request (policy view lookup, context, evaluation).
func BenchmarkAuthorize(b *testing.B) {
	e := newTestEnv(b)
	user := e.user("bench",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:`+testAccount+`:secret:prod/payments/*","Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"payments"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}]}`)
	sec := &secrets.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + testAccount + ":secret:prod/payments/db-AbCdEf", Name: "prod/payments/db",
		Tags: []secrets.Tag{{Key: "team", Value: "payments"}}}
	in := &smapi.GetSecretValueInput{SecretId: aws.String("prod/payments/db")}
	ctx := context.Background()
	for _, who := range []struct {
		name string
		c    *call
	}{
		{"user", e.callOf(user, svcSecretsManager, in)},
	} {
		b.Run(who.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.srv.authorize(ctx, who.c, "secretsmanager:GetSecretValue", sec.ARN, sec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
