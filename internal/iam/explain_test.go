package iam_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coffer-dev/coffer/internal/iam"
)

// AccessDenied texts follow the IAM User Guide's troubleshoot_access-denied
// page ("with an explicit deny in a <type> policy" / "because no <type>
// policy allows the <action> action"), with the denying policy's ARN
// appended for identity-based, boundary and session policies (AWS security
// blog, "Enhanced access denied error messages with policy ARNs").
func TestMessages(t *testing.T) {
	head := "User: " + aliceARN + " is not authorized to perform: secretsmanager:GetSecretValue on resource: " + secretARN
	sessHead := "User: " + sessionARN + " is not authorized to perform: secretsmanager:GetSecretValue on resource: " + secretARN
	cases := []struct {
		c    evalCase
		want string
	}{
		{evalCase{}, head + " because no identity-based policy allows the secretsmanager:GetSecretValue action"},
		{evalCase{id: []string{allowAll, pol(sm("Deny", getSecret, ""))}}, head + " with an explicit deny in an identity-based policy: arn:aws:iam::111122223333:policy/id1"},
		{evalCase{res: pol(`{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}`)}, head + " with an explicit deny in a resource-based policy"},
		{evalCase{id: []string{allowAll}, bnd: pol(sm("Allow", "s3:*", ""))}, head + " because no permissions boundary allows the secretsmanager:GetSecretValue action"},
		{evalCase{id: []string{allowAll}, bnd: pol(sm("Deny", "*", ""))}, head + " with an explicit deny in a permissions boundary: arn:aws:iam::111122223333:policy/boundary"},
		{evalCase{p: session(), id: []string{allowAll}, ses: []string{pol(sm("Allow", "s3:*", ""))}}, sessHead + " because no session policy allows the secretsmanager:GetSecretValue action"},
		{evalCase{p: session(), id: []string{allowAll}, ses: []string{pol(sm("Deny", "*", ""))}}, sessHead + " with an explicit deny in a session policy"},
		{evalCase{p: eve(), id: []string{allowAll}}, "User: " + eveARN + " is not authorized to perform: secretsmanager:GetSecretValue on resource: " + secretARN + " because no resource-based policy allows the secretsmanager:GetSecretValue action"},
		{evalCase{id: []string{allowAll}, rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"kms:*","Resource":"*"}`), act: "kms:Decrypt", arn: keyARN}, "User: " + aliceARN + " is not authorized to perform: kms:Decrypt on resource: " + keyARN + " because no resource-based policy allows the kms:Decrypt action"},
		{evalCase{id: []string{allowAll}}, ""},
	}
	for _, c := range cases {
		d := runCase(t, c.c)
		if got := d.Message(); got != c.want {
			t.Errorf("message\n got %q\nwant %q", got, c.want)
		}
	}
	d := iam.Evaluate(&iam.Request{Action: getSecret, Resource: secretARN}, &iam.Set{})
	if got, want := d.Message(), "User: anonymous is not authorized to perform: secretsmanager:GetSecretValue on resource: "+secretARN+" because no identity-based policy allows the secretsmanager:GetSecretValue action"; got != want {
		t.Errorf("anonymous message %q", got)
	}
}

func TestStatements(t *testing.T) {
	idDoc := pol(`{"Sid":"Other","Effect":"Allow","Action":"s3:*","Resource":"*"}`, `{"Sid":"ReadSecrets","Effect":"Allow","Action":"secretsmanager:Get*","Resource":"*"}`)
	cases := []struct {
		name string
		c    evalCase
		want []iam.StatementRef
	}{
		{"identity allow with boundary and session", evalCase{p: session(), id: []string{allowAll, idDoc}, bnd: pol(`{"Sid":"B","Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}`), ses: []string{pol(`{"Sid":"S","Effect":"Allow","Action":"*","Resource":"*"}`)}},
			[]iam.StatementRef{
				{Layer: iam.LayerIdentity, Policy: "arn:aws:iam::111122223333:policy/id0", Index: 0, Effect: iam.Allow},
				{Layer: iam.LayerBoundary, Policy: "arn:aws:iam::111122223333:policy/boundary", Index: 0, Sid: "B", Effect: iam.Allow},
				{Layer: iam.LayerSession, Policy: "session0", Index: 0, Sid: "S", Effect: iam.Allow},
			}},
		{"second statement allows", evalCase{id: []string{idDoc}},
			[]iam.StatementRef{{Layer: iam.LayerIdentity, Policy: "arn:aws:iam::111122223333:policy/id0", Index: 1, Sid: "ReadSecrets", Effect: iam.Allow}}},
		{"explicit deny", evalCase{id: []string{idDoc, pol(`{"Sid":"NoProd","Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:prod/*"}`)}},
			[]iam.StatementRef{{Layer: iam.LayerIdentity, Policy: "arn:aws:iam::111122223333:policy/id1", Index: 0, Sid: "NoProd", Effect: iam.Deny}}},
		{"resource grant", evalCase{res: pol(`{"Sid":"X","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}`, `{"Sid":"App","Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"secretsmanager:*","Resource":"*"}`)},
			[]iam.StatementRef{{Layer: iam.LayerResource, Policy: "resource", Index: 1, Sid: "App", Effect: iam.Allow}}},
		{"boundary implicit deny names the identity allow", evalCase{id: []string{idDoc}, bnd: pol(sm("Allow", "s3:*", ""))},
			[]iam.StatementRef{{Layer: iam.LayerIdentity, Policy: "arn:aws:iam::111122223333:policy/id0", Index: 1, Sid: "ReadSecrets", Effect: iam.Allow}}},
		{"implicit deny names nothing", evalCase{id: []string{pol(sm("Allow", "s3:*", ""))}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := runCase(t, c.c)
			got := d.Statements()
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatalf("statements (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReasonStrings(t *testing.T) {
	for r := iam.AllowedByIdentity; r <= iam.DeniedNoSession; r++ {
		if s := r.String(); s == "" || s[0] == 'r' && s[:6] == "reason" {
			t.Errorf("Reason(%d).String() = %q", r, s)
		}
	}
	if iam.Reason(200).String() != "reason(200)" {
		t.Error("unknown reason string")
	}
	for _, k := range []iam.Kind{iam.KindIdentity, iam.KindResource, iam.KindKeyPolicy, iam.KindTrust, iam.KindBoundary, iam.KindSession} {
		if k.String() == "" {
			t.Errorf("kind %d has no name", k)
		}
	}
	if iam.PrincipalAssumedRole.String() != "AssumedRole" || iam.PrincipalRoot.String() != "Account" || iam.PrincipalUser.String() != "User" {
		t.Error("principal type strings")
	}
}

// TestPolicyReuse checks that one compiled policy serves many goroutines.
func TestPolicyReuse(t *testing.T) {
	p := mustParse(t, smABAC, iam.KindIdentity)
	set := &iam.Set{Identity: []iam.Labeled{{Label: "abac", Policy: p}}}
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func(g int) {
			ok := true
			for i := 0; i < 200; i++ {
				var v iam.Values
				team := "payments"
				if (g+i)%2 == 1 {
					team = "web"
				}
				v.Set("aws:ResourceTag/team", team)
				d := iam.Evaluate(&iam.Request{Principal: alice(), Action: getSecret, Resource: secretARN, Context: &v}, set)
				if d.Allowed != (team == "payments") {
					ok = false
				}
			}
			done <- ok
		}(g)
	}
	for g := 0; g < 8; g++ {
		if !<-done {
			t.Fatal("wrong decision under concurrency")
		}
	}
}

func TestValues(t *testing.T) {
	var v iam.Values
	v.Set("aws:SourceIp", "10.0.0.1")
	v.Set("AWS:SOURCEIP", "10.0.0.2") // same key, replaces
	v.SetList("aws:TagKeys", []string{"a", "b"})
	v.SetList("test:empty", nil)
	v.Set("aws:ResourceTag/Ünïcode", "x")
	if got, ok := v.Lookup("aws:sourceip"); !ok || len(got) != 1 || got[0] != "10.0.0.2" {
		t.Fatalf("sourceip %v %v", got, ok)
	}
	if got, ok := v.Lookup("aws:tagkeys"); !ok || len(got) != 2 {
		t.Fatalf("tagkeys %v", got)
	}
	if got, ok := v.Lookup("test:empty"); !ok || len(got) != 0 {
		t.Fatalf("empty %v %v", got, ok)
	}
	if _, ok := v.Lookup("aws:resourcetag/ünïcode"); !ok {
		t.Fatal("unicode key")
	}
	if _, ok := v.Lookup("aws:sourceipx"); ok {
		t.Fatal("prefix key matched")
	}
	v.Reset()
	if _, ok := v.Lookup("aws:sourceip"); ok {
		t.Fatal("reset kept keys")
	}
}
