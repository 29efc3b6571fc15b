package awsapi_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi"
	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/loadgen"
	"github.com/coffer-dev/coffer/internal/secrets"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

// benchPolicy is the realistic application policy of docs/PERFORMANCE.md.
const benchPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"ReadAppSecrets","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:coffer-bench/*"},
 {"Sid":"ManageBenchSecrets","Effect":"Allow","Action":["secretsmanager:CreateSecret","secretsmanager:PutSecretValue","secretsmanager:DeleteSecret"],"Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:coffer-bench/*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}},
 {"Sid":"List","Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"},
 {"Sid":"NoProd","Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*"}]}`

// newUserPerfEnv is newPerfEnv whose requests are signed by an IAM user
// with benchPolicy (the root creates the fixtures).
func newUserPerfEnv(tb testing.TB) (*perfEnv, *loadgen.Signer) {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		tb.Fatal(err)
	}
	const region, account = "us-east-1", "123456789012"
	ctx := context.Background()
	k := kms.New(kms.Config{Store: db, Root: root, Region: region, Account: account})
	sec := secrets.New(secrets.Config{Store: db, Keys: k, Region: region, Account: account})
	id := identity.New(identity.Config{Store: db, Root: root, Account: account, Region: region})
	c, err := id.EnsureRoot(ctx, nil)
	if err != nil || c == nil {
		tb.Fatalf("EnsureRoot: %v", err)
	}
	if _, err := id.CreateEntity(ctx, identity.CreateEntityInput{Kind: identity.KindUser, Name: "bench"}); err != nil {
		tb.Fatal(err)
	}
	if err := id.PutInlinePolicy(ctx, identity.KindUser, "bench", "bench-app", benchPolicy); err != nil {
		tb.Fatal(err)
	}
	ak, secret, err := id.CreateAccessKey(ctx, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	srv := awsapi.New(awsapi.Config{Region: region, Account: account, Secrets: sec, KMS: k, Identity: id, Units: db})
	creds := loadgen.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	e := &perfEnv{srv: srv, db: db, creds: creds, sm: loadgen.NewSigner(creds, region, "secretsmanager", "coffer.test")}
	user := loadgen.NewSigner(loadgen.Credentials{AccessKeyID: ak.ID, SecretAccessKey: secret}, region, "secretsmanager", "coffer.test")
	return e, user
}

// BenchmarkEdgeIAM is BenchmarkEdge's reads as a non-root caller: an IAM
// user whose policy (benchPolicy) is evaluated with its condition context
// on every request, as in the target.
func BenchmarkEdgeIAM(b *testing.B) {
	e, user := newUserPerfEnv(b)
	value := strings.Repeat("v", 200)
	for i := range 100 {
		e.mustDo(b, "CreateSecret", fmt.Sprintf(`{"Name":"coffer-bench/%03d","ClientRequestToken":"00000000-0000-0000-0000-%012d","SecretString":%q}`, i, i, value))
	}
	asUser := &perfEnv{srv: e.srv, db: e.db, sm: user}
	for _, op := range []string{"GetSecretValue", "DescribeSecret"} {
		b.Run(op, func(b *testing.B) {
			p := newReplay(asUser.request(b, op, `{"SecretId":"coffer-bench/007"}`))
			w := &discardWriter{h: map[string][]string{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				e.srv.ServeHTTP(w, p.next())
				if w.code != 200 {
					b.Fatalf("status %d: %v", w.code, w.h)
				}
			}
		})
	}
}
