package iam_test

import (
	"testing"

	"github.com/coffer-dev/coffer/internal/iam"
)

// A typical role: three policies, ten statements, conditions with tags,
// variables, IP and TLS checks; the allowing statement is in the second
// policy, so every earlier statement is tried first.
var typicalRole = []string{
	pol(
		`{"Sid":"List","Effect":"Allow","Action":["secretsmanager:ListSecrets","secretsmanager:GetRandomPassword"],"Resource":"*"}`,
		`{"Sid":"TeamApp","Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:111122223333:secret:app/${aws:PrincipalTag/team}/*"}`,
		`{"Sid":"Decrypt","Effect":"Allow","Action":"kms:Decrypt","Resource":"`+keyARN+`","Condition":{"StringLike":{"kms:ViaService":"secretsmanager.*.amazonaws.com"}}}`,
	),
	pol(
		`{"Sid":"Payments","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:prod/payments/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}`,
		`{"Sid":"NoDelete","Effect":"Deny","Action":"secretsmanager:Delete*","Resource":"*"}`,
		`{"Sid":"TLSOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
	),
	pol(
		`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::config-bucket/*"}`,
		`{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:*:*"}`,
		`{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:111122223333:jobs"}`,
		`{"Effect":"Deny","Action":"secretsmanager:PutResourcePolicy","Resource":"*"}`,
	),
}

func typicalSet(b testing.TB) *iam.Set {
	set := &iam.Set{}
	for i, doc := range typicalRole {
		set.Identity = append(set.Identity, iam.Labeled{Label: string(rune('a' + i)), Policy: mustParse(b, doc, iam.KindIdentity)})
	}
	return set
}

func typicalContext(v *iam.Values) {
	v.Set("aws:SecureTransport", "true")
	v.Set("aws:SourceIp", "10.20.30.40")
	v.Set("aws:ResourceTag/team", "payments")
	v.Set("aws:RequestedRegion", "us-east-1")
	v.Set("secretsmanager:SecretId", secretARN)
	v.Set("secretsmanager:VersionStage", "AWSCURRENT")
	v.Set("aws:CurrentTime", "2026-11-23T10:00:00Z")
	v.Set("aws:EpochTime", "1795428000")
}

func paymentsSession() *iam.Principal {
	p := session()
	p.Tags = map[string]string{"team": "payments", "env": "prod"}
	return p
}

func BenchmarkEvaluate(b *testing.B) {
	b.Run("typical-role", func(b *testing.B) {
		set := typicalSet(b)
		var v iam.Values
		typicalContext(&v)
		req := &iam.Request{Principal: paymentsSession(), Action: getSecret, Resource: secretARN, Context: &v}
		if d := iam.Evaluate(req, set); !d.Allowed {
			b.Fatal(d.Message())
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			iam.Evaluate(req, set)
		}
	})
	b.Run("typical-role-building-context", func(b *testing.B) {
		set := typicalSet(b)
		var v iam.Values
		pr := paymentsSession()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			v.Reset()
			typicalContext(&v)
			req := iam.Request{Principal: pr, Action: getSecret, Resource: secretARN, Context: &v}
			if !iam.Evaluate(&req, set).Allowed {
				b.Fatal("denied")
			}
		}
	})
	b.Run("typical-role-implicit-deny", func(b *testing.B) {
		set := typicalSet(b)
		var v iam.Values
		typicalContext(&v)
		req := &iam.Request{Principal: paymentsSession(), Action: "secretsmanager:PutSecretValue", Resource: secretARN, Context: &v}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			iam.Evaluate(req, set)
		}
	})
	b.Run("deny-precedence", func(b *testing.B) {
		set := typicalSet(b)
		var v iam.Values
		typicalContext(&v)
		req := &iam.Request{Principal: paymentsSession(), Action: "secretsmanager:PutResourcePolicy", Resource: secretARN, Context: &v}
		if d := iam.Evaluate(req, set); d.Reason != iam.DeniedExplicitIdentity {
			b.Fatal(d.Reason)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			iam.Evaluate(req, set)
		}
	})
	b.Run("resource-policy-and-boundary", func(b *testing.B) {
		set := typicalSet(b)
		set.Resource = iam.Labeled{Label: "secret", Policy: mustParse(b, pol(
			`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}`,
			`{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), iam.KindResource)}
		set.Boundary = iam.Labeled{Label: "boundary", Policy: mustParse(b, pol(`{"Effect":"Allow","Action":["secretsmanager:*","kms:Decrypt"],"Resource":"*"}`), iam.KindBoundary)}
		var v iam.Values
		typicalContext(&v)
		req := &iam.Request{Principal: paymentsSession(), Action: getSecret, Resource: secretARN, Context: &v}
		if d := iam.Evaluate(req, set); !d.Allowed {
			b.Fatal(d.Message())
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			iam.Evaluate(req, set)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	doc := typicalRole[1]
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for range b.N {
		if _, err := iam.Parse(doc, iam.KindIdentity); err != nil {
			b.Fatal(err)
		}
	}
}
