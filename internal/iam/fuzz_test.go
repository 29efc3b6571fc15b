package iam_test

import (
	"encoding/json"
	"testing"

	"github.com/coffer-dev/coffer/internal/iam"
)

// FuzzParse: arbitrary documents never panic, errors are *PolicyError,
// and a document that parsed always evaluates.
func FuzzParse(f *testing.F) {
	seeds := []string{
		allowAll, defaultKeyPolicy, irsaTrust, smABAC, smStage, esoRead,
		pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","111122223333"]},"NotAction":"secretsmanager:Get*","NotResource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}`),
		pol(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","${*}"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"NumericLessThanEquals":{"n":[1,2.5]},"Null":{"x":true},"ArnLike":{"aws:SourceArn":"arn:aws:*:*:${aws:PrincipalAccount}:*"}}}`),
		`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}`,
		`{"Statement":[{"Sid":"\u00e9","Effect":"Allow","Action":["a:b"],"Resource":["*"]}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:s3:::x/${aws:PrincipalTag/t, 'd}e'}"}}`,
		`[]`, `{}`, `{"Statement":[]}`, `"x"`, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"a:b:c:d:e:f:g"}}`,
	}
	for i, s := range seeds {
		f.Add(s, uint8(i%6+1))
	}
	f.Fuzz(func(t *testing.T, doc string, k uint8) {
		kind := iam.Kind(k%7 + 1) // includes one invalid kind
		p, err := iam.Parse(doc, kind)
		if err != nil {
			if p != nil {
				t.Fatal("policy and error")
			}
			if _, ok := err.(*iam.PolicyError); !ok {
				t.Fatalf("error type %T", err)
			}
			if msgOf(err) == "" {
				t.Fatal("empty AWS message")
			}
			return
		}
		_ = p.Principals()
		for _, pr := range []*iam.Principal{alice(), session(), root(), eve(), nil, webIdentity()} {
			set := &iam.Set{}
			l := iam.Labeled{Label: "fuzz", Policy: p}
			switch kind {
			case iam.KindIdentity:
				set.Identity = []iam.Labeled{l}
			case iam.KindBoundary:
				set.Identity = []iam.Labeled{{Label: "all", Policy: mustParse(t, allowAll, iam.KindIdentity)}}
				set.Boundary = l
			case iam.KindSession:
				set.Session = []iam.Labeled{l}
			default:
				set.Resource = l
				_, _ = iam.BroadAccess(p, acct)
			}
			var v iam.Values
			v.Set("aws:SourceIp", "10.1.2.3")
			v.SetList("aws:TagKeys", []string{"a", "b"})
			v.Set("aws:CurrentTime", "2026-11-23T10:00:00Z")
			d := iam.Evaluate(&iam.Request{Principal: pr, Action: getSecret, Resource: secretARN, Context: &v, Time: now2026}, set)
			_ = d.Message()
			_ = d.Statements()
		}
	})
}

// FuzzEvaluate builds a statement from fuzzed parts. Whatever the parts,
// evaluation must not panic, and the statement must behave the same as an
// Allow and as a Deny: "Allow S" allows exactly when "Allow *; Deny S"
// denies explicitly.
func FuzzEvaluate(f *testing.F) {
	f.Add("StringLike", "aws:ResourceTag/team", "pay*", "payments", "secretsmanager:Get*", "arn:aws:secretsmanager:*:*:secret:${aws:username}*", getSecret, secretARN, uint8(0))
	f.Add("ForAllValues:StringNotEquals", "aws:TagKeys", "a", "b", "*", "*", "kms:Decrypt", keyARN, uint8(1))
	f.Add("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", "10.9.9.9", "sts:*", "*", "sts:AssumeRole", roleARN, uint8(2))
	f.Add("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", "", "*", "*", "a:b", "*", uint8(3))
	f.Add("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::${aws:PrincipalAccount}:role/*", "x", "*", "arn:aws:*", "a:b", "arn:aws:x:y:z:w", uint8(4))
	f.Add("Null", "aws:username", "true", "", "*", "*", "x:y", "*", uint8(5))
	f.Add("NumericGreaterThan", "n", "1e3", "1001", "*", "*", "x:y", "*", uint8(6))
	f.Add("StringEqualsIgnoreCase", "k", "${aws:PrincipalTag/team, 'Ä'}", "ä", "*", "*", "x:y", "*", uint8(7))
	f.Fuzz(func(t *testing.T, op, key, val, ctxVal, action, resource, reqAction, reqResource string, sel uint8) {
		for _, s := range []string{op, key, val, ctxVal, action, resource, reqAction, reqResource} {
			if len(s) > 512 { // keep the fuzzer on semantics, not on long strings
				return
			}
		}
		enc := func(s string) string {
			b, _ := json.Marshal(s)
			return string(b)
		}
		cond := `{` + enc(op) + `:{` + enc(key) + `:` + enc(val) + `}}`
		body := `"Action":` + enc(action) + `,"Resource":` + enc(resource) + `,"Condition":` + cond
		allowDoc := pol(`{"Effect":"Allow",` + body + `}`)
		denyDoc := pol(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny",`+body+`}`)
		pa, errA := iam.Parse(allowDoc, iam.KindIdentity)
		pd, errD := iam.Parse(denyDoc, iam.KindIdentity)
		if (errA == nil) != (errD == nil) {
			t.Fatalf("allow parse %v, deny parse %v", errA, errD)
		}
		if errA != nil {
			return
		}
		principals := []*iam.Principal{alice(), session(), bob(), service("x.amazonaws.com")}
		pr := principals[int(sel)%len(principals)]
		var v iam.Values
		switch sel % 3 {
		case 0:
			v.Set(key, ctxVal)
		case 1:
			v.SetList(key, []string{ctxVal, val})
		}
		req := &iam.Request{Principal: pr, Action: reqAction, Resource: reqResource, Context: &v, Time: now2026}
		if sel&8 != 0 {
			req.Context = nil
		}
		da := iam.Evaluate(req, &iam.Set{Identity: []iam.Labeled{{Label: "a", Policy: pa}}})
		dd := iam.Evaluate(req, &iam.Set{Identity: []iam.Labeled{{Label: "d", Policy: pd}}})
		_ = da.Message()
		if da.Reason == iam.AllowedAlways || da.Reason == iam.DeniedNoResource {
			return // GetCallerIdentity; or cross-account without a resource policy
		}
		if da.Allowed != (dd.Reason == iam.DeniedExplicitIdentity) || da.Allowed == dd.Allowed {
			t.Fatalf("allow-form %v (%s), deny-form %v (%s)", da.Allowed, da.Reason, dd.Allowed, dd.Reason)
		}
		// Same statement as a resource-policy grant to "*".
		res := pol(`{"Effect":"Allow","Principal":"*",` + body + `}`)
		pr2, err := iam.Parse(res, iam.KindResource)
		if err != nil {
			t.Fatalf("resource form did not parse: %v", err)
		}
		dr := iam.Evaluate(req, &iam.Set{Resource: iam.Labeled{Label: "r", Policy: pr2}})
		if dr.Allowed != da.Allowed {
			t.Fatalf("resource form %v, identity form %v", dr.Allowed, da.Allowed)
		}
	})
}
