package iam_test

import (
	"errors"
	"testing"

	"github.com/coffer-dev/coffer/internal/iam"
)

// Broad-access cases follow spec §2.7 (Secrets Manager's BlockPublicPolicy
// refers to S3's definition of "public", plus aws:PrincipalArn,
// aws:PrincipalAccount and aws:PrincipalOrgID).
func TestBroadAccess(t *testing.T) {
	allow := func(principal, cond string) string {
		s := `{"Effect":"Allow",` + principal + `,"Action":"secretsmanager:GetSecretValue","Resource":"*"`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return pol(s + "}")
	}
	cases := []struct {
		name  string
		doc   string
		broad bool
	}{
		{"Principal *", allow(`"Principal":"*"`, ""), true},
		{"AWS *", allow(`"Principal":{"AWS":"*"}`, ""), true},
		{"AWS * in a list", allow(`"Principal":{"AWS":["`+aliceARN+`","*"]}`, ""), true},
		{"own role", allow(`"Principal":{"AWS":"`+roleARN+`"}`, ""), false},
		{"own user", allow(`"Principal":{"AWS":"`+aliceARN+`"}`, ""), false},
		{"own account", allow(`"Principal":{"AWS":"111122223333"}`, ""), false},
		{"own account root", allow(`"Principal":{"AWS":"arn:aws:iam::111122223333:root"}`, ""), false},
		{"foreign account", allow(`"Principal":{"AWS":"444455556666"}`, ""), true},
		{"foreign user", allow(`"Principal":{"AWS":"`+eveARN+`"}`, ""), true},
		{"foreign session", allow(`"Principal":{"AWS":"arn:aws:sts::444455556666:assumed-role/R/s"}`, ""), true},
		{"service principal", allow(`"Principal":{"Service":"lambda.amazonaws.com"}`, ""), false},
		{"NotPrincipal allow", pol(`{"Effect":"Allow","NotPrincipal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), true},
		{"deny * is not access", pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}`), false},
		{"* limited to own account", allow(`"Principal":"*"`, `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`), false},
		{"* limited by PrincipalArn", allow(`"Principal":"*"`, `{"ArnEquals":{"aws:PrincipalArn":"`+roleARN+`"}}`), false},
		{"* limited by PrincipalArn pattern", allow(`"Principal":"*"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}`), true},
		{"* limited by org", allow(`"Principal":"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}`), false},
		{"* limited by SourceAccount", allow(`"Principal":"*"`, `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`), false},
		{"* limited by SourceArn", allow(`"Principal":"*"`, `{"ArnEquals":{"aws:SourceArn":"arn:aws:lambda:us-east-1:111122223333:function:f"}}`), false},
		{"* limited by SourceVpce", allow(`"Principal":"*"`, `{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c"}}`), false},
		{"* limited by SourceIp", allow(`"Principal":"*"`, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), false},
		{"* with SourceIp /0", allow(`"Principal":"*"`, `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`), true},
		{"* with SourceIp ::/0", allow(`"Principal":"*"`, `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::/0"]}}`), true},
		{"* with NotIpAddress", allow(`"Principal":"*"`, `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), true},
		{"* with IfExists", allow(`"Principal":"*"`, `{"StringEqualsIfExists":{"aws:PrincipalAccount":"111122223333"}}`), true},
		{"* with ForAllValues", allow(`"Principal":"*"`, `{"ForAllValues:StringEquals":{"aws:PrincipalAccount":"111122223333"}}`), true},
		{"* with StringLike wildcard", allow(`"Principal":"*"`, `{"StringLike":{"aws:PrincipalAccount":"1111*"}}`), true},
		{"* with StringLike fixed", allow(`"Principal":"*"`, `{"StringLike":{"aws:PrincipalAccount":"111122223333"}}`), false},
		{"* with variable", allow(`"Principal":"*"`, `{"StringEquals":{"aws:PrincipalAccount":"${aws:PrincipalAccount}"}}`), true},
		{"* with StringNotEquals", allow(`"Principal":"*"`, `{"StringNotEquals":{"aws:PrincipalAccount":"444455556666"}}`), true},
		{"* with unrelated key", allow(`"Principal":"*"`, `{"StringEquals":{"aws:ResourceTag/env":"prod"}}`), true},
		{"* with userid", allow(`"Principal":"*"`, `{"StringEquals":{"aws:userid":"AIDAALICEEXAMPLE12345"}}`), false},
		{"* with userid role pattern", allow(`"Principal":"*"`, `{"StringLike":{"aws:userid":"AROAAPPROLEEXAMPLE123:*"}}`), true},
		{"second statement broad", pol(`{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"secretsmanager:*","Resource":"*"}`, `{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, c.doc, iam.KindResource)
			broad, idx := iam.BroadAccess(p, acct)
			if broad != c.broad {
				t.Fatalf("BroadAccess = %v (stmt %d), want %v", broad, idx, c.broad)
			}
			if broad != (idx >= 0) {
				t.Fatalf("index %d with broad=%v", idx, broad)
			}
			f, err := iam.ValidateResourcePolicy(c.doc, acct, secretARN)
			if err != nil {
				t.Fatal(err)
			}
			hasBroad := false
			for _, x := range f {
				if x.CheckName == iam.CheckBroadAccess {
					hasBroad = true
				}
			}
			if hasBroad != c.broad {
				t.Fatalf("findings %+v", f)
			}
		})
	}
}

func TestValidateResourcePolicy(t *testing.T) {
	cases := []struct {
		name   string
		doc    string
		secret string
		checks []string
	}{
		{"clean", pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), secretARN, nil},
		{"lockout on *", pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}`), "", []string{iam.CheckLockout}},
		{"lockout on account", pol(`{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:PutResourcePolicy","Resource":"*"}`), "", []string{iam.CheckLockout}},
		{"lockout on the secret ARN", pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:DeleteResourcePolicy","Resource":"` + secretARN + `"}`), secretARN, []string{iam.CheckLockout}},
		{"deny on other secret", pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"` + devARN + `"}`), secretARN, nil},
		{"deny with exception condition", pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"` + roleARN + `"}}}`), "", nil},
		{"deny with NotPrincipal exception", pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + roleARN + `","111122223333"]},"Action":"secretsmanager:*","Resource":"*"}`), "", nil},
		{"deny of reads only", pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), "", nil},
		{"deny NotAction keeps policy actions", pol(`{"Effect":"Deny","Principal":"*","NotAction":"secretsmanager:*ResourcePolicy","Resource":"*"}`), "", nil},
		{"broad and lockout", pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`, `{"Effect":"Deny","Principal":"*","Action":"secretsmanager:PutResourcePolicy","Resource":"*"}`), "", []string{iam.CheckBroadAccess, iam.CheckLockout}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := iam.ValidateResourcePolicy(c.doc, acct, c.secret)
			if err != nil {
				t.Fatal(err)
			}
			if len(f) != len(c.checks) {
				t.Fatalf("findings %+v, want %v", f, c.checks)
			}
			for i := range f {
				if f[i].CheckName != c.checks[i] || f[i].ErrorMessage == "" {
					t.Fatalf("finding %d = %+v, want %s", i, f[i], c.checks[i])
				}
			}
		})
	}
	_, err := iam.ValidateResourcePolicy(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}}`, acct, "")
	if !errors.Is(err, iam.ErrMalformedPolicy) || msgOf(err) != "Missing required field Principal" {
		t.Fatalf("malformed: %v", err)
	}
}
