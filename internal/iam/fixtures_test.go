package iam_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
)

// Fixtures shared by the test files. Account 111122223333 is "ours",
// 444455556666 is foreign (the AWS documentation's example accounts).

const (
	acct    = "111122223333"
	foreign = "444455556666"

	secretARN  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-AbCdEf"
	devARN     = "arn:aws:secretsmanager:us-east-1:111122223333:secret:dev/app-XyZ123"
	keyARN     = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	roleARN    = "arn:aws:iam::111122223333:role/app/AppRole"
	sessionARN = "arn:aws:sts::111122223333:assumed-role/AppRole/sess1"
	aliceARN   = "arn:aws:iam::111122223333:user/alice"
	bobARN     = "arn:aws:iam::111122223333:user/division/bob"
	eveARN     = "arn:aws:iam::444455556666:user/eve"
	oidcARN    = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123"

	getSecret = "secretsmanager:GetSecretValue"
)

func alice() *iam.Principal {
	return &iam.Principal{
		Type: iam.PrincipalUser, ARN: aliceARN, Account: acct,
		UserID: "AIDAALICEEXAMPLE12345", Username: "alice",
		Tags: map[string]string{"team": "payments", "CostCenter": "cc-42"},
	}
}

func bob() *iam.Principal {
	return &iam.Principal{
		Type: iam.PrincipalUser, ARN: bobARN, Account: acct,
		UserID: "AIDABOBEXAMPLE1234567", Username: "bob",
	}
}

func session() *iam.Principal {
	return &iam.Principal{
		Type: iam.PrincipalAssumedRole, ARN: sessionARN, Account: acct,
		UserID: "AROAAPPROLEEXAMPLE123:sess1", RoleARN: roleARN,
		Tags: map[string]string{"team": "platform"},
	}
}

func otherSession() *iam.Principal {
	return &iam.Principal{
		Type: iam.PrincipalAssumedRole, ARN: "arn:aws:sts::111122223333:assumed-role/OtherRole/s2", Account: acct,
		UserID: "AROAOTHERROLEEXAMPLE1:s2", RoleARN: "arn:aws:iam::111122223333:role/OtherRole",
	}
}

func root() *iam.Principal {
	return &iam.Principal{Type: iam.PrincipalRoot, ARN: "arn:aws:iam::111122223333:root", Account: acct, UserID: acct}
}

func foreignRoot() *iam.Principal {
	return &iam.Principal{Type: iam.PrincipalRoot, ARN: "arn:aws:iam::444455556666:root", Account: foreign, UserID: foreign}
}

func eve() *iam.Principal {
	return &iam.Principal{Type: iam.PrincipalUser, ARN: eveARN, Account: foreign, UserID: "AIDAEVEEXAMPLE1234567", Username: "eve"}
}

func service(name string) *iam.Principal {
	return &iam.Principal{Type: iam.PrincipalService, Service: name}
}

func webIdentity() *iam.Principal {
	return &iam.Principal{Type: iam.PrincipalWebIdentity, FederatedProvider: oidcARN}
}

// pol wraps statements into a 2012-10-17 document.
func pol(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// allowAll is an identity policy allowing everything.
var allowAll = pol(`{"Effect":"Allow","Action":"*","Resource":"*"}`)

func mustParse(t testing.TB, doc string, kind iam.Kind) *iam.Policy {
	t.Helper()
	p, err := iam.Parse(doc, kind)
	if err != nil {
		t.Fatalf("parse %s policy: %v (%s)\n%s", kind, err, msgOf(err), doc)
	}
	return p
}

func msgOf(err error) string {
	if pe, ok := err.(*iam.PolicyError); ok {
		return pe.Message
	}
	return ""
}

var now2026 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
