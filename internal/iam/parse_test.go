package iam_test

import (
	"errors"
	"testing"

	"github.com/coffer-dev/coffer/internal/iam"
)

func stmt(s string) string { return pol(s) }

const okStmt = `"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"`

// parseErrorCases: documents IAM rejects and the MalformedPolicyDocument
// message it returns. Most texts are the ones IAM returns for
// CreatePolicy/PutUserPolicy (as recorded by moto's IAM policy-validation
// tests and by user reports); the Principal texts are IAM's texts for
// identity and trust policies.
var parseErrorCases = []struct {
	name string
	doc  string
	kind iam.Kind
	msg  string
}{
	{"not json", `This is not a json document`, iam.KindIdentity, "Syntax errors in policy."},
	{"trailing garbage", pol(`{`+okStmt+`}`) + `x`, iam.KindIdentity, "Syntax errors in policy."},
	{"array document", `[` + pol(`{`+okStmt+`}`) + `]`, iam.KindIdentity, "Syntax errors in policy."},
	{"bad version", `{"Version":"2013-10-17","Statement":{` + okStmt + `}}`, iam.KindIdentity, "Syntax errors in policy."},
	{"version not string", `{"Version":20121017,"Statement":{` + okStmt + `}}`, iam.KindIdentity, "Syntax errors in policy."},
	{"no statement", `{"Version":"2012-10-17"}`, iam.KindIdentity, "Syntax errors in policy."},
	{"empty statement list", `{"Version":"2012-10-17","Statement":[]}`, iam.KindIdentity, "Syntax errors in policy."},
	{"statement not object", `{"Version":"2012-10-17","Statement":["afd"]}`, iam.KindIdentity, "Syntax errors in policy."},
	{"statement is a string", `{"Version":"2012-10-17","Statement":"x"}`, iam.KindIdentity, "Syntax errors in policy."},
	{"unknown top-level field", `{"Version":"2012-10-17","Statement":{` + okStmt + `},"Extra field":"value"}`, iam.KindIdentity, "Syntax errors in policy."},
	{"unknown statement field", stmt(`{` + okStmt + `,"Extra field":"value"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"lower-case field name", stmt(`{"effect":"Allow","Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Id list", `{"Version":"2012-10-17","Id":["x"],"Statement":{` + okStmt + `}}`, iam.KindIdentity, "Syntax errors in policy."},
	{"Id object", `{"Version":"2012-10-17","Id":{},"Statement":{` + okStmt + `}}`, iam.KindIdentity, "Syntax errors in policy."},
	{"invalid effect", stmt(`{"Effect":"invalid","Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"missing effect", stmt(`{"Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"effect wrong case", stmt(`{"Effect":"denY","Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"effect wrong case beats duplicate sid", pol(`{"Sid":"sdf","Effect":"aLLow","Action":"s3:ListBucket","Resource":"*"}`, `{"Sid":"sdf","Effect":"Allow"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"duplicate json key", stmt(`{"Effect":"Allow","Effect":"Deny","Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Action and NotAction", stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Action":"iam:dsf","Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Resource and NotResource", stmt(`{` + okStmt + `,"NotResource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Resource and empty NotResource", stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"*","NotResource":[]}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Resource object", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":{"a":"b"}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Resource list with object", stmt(`{"Effect":"Deny","Action":"s3:ListBucket","Resource":["adfdf",{}]}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Action nested list", stmt(`{"Effect":"Deny","Action":[[]],"Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Action object", stmt(`{"Effect":"Allow","Action":{},"Resource":"*"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Sid object", stmt(`{"Sid":{},` + okStmt + `}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Sid list", stmt(`{"Sid":[],` + okStmt + `}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Condition list", stmt(`{` + okStmt + `,"Condition":[]}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Condition string", stmt(`{` + okStmt + `,"Condition":"a"}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Condition operator maps to string", stmt(`{` + okStmt + `,"Condition":{"a":"b"}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Condition operator maps to list", stmt(`{` + okStmt + `,"Condition":{"DateGreaterThan":[]}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Condition value object", stmt(`{` + okStmt + `,"Condition":{"DateGreaterThan":{"a":{}}}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"Condition value null", stmt(`{` + okStmt + `,"Condition":{"StringEquals":{"a":null}}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"unknown condition operator", stmt(`{` + okStmt + `,"Condition":{"x":{"a":"1"}}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"operator wrong case", stmt(`{` + okStmt + `,"Condition":{"stringequals":{"a":"1"}}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"double colon set operator", stmt(`{` + okStmt + `,"Condition":{"ForAnyValue::StringEqualsIfExists":{"a":"asf"}}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"NullIfExists", stmt(`{` + okStmt + `,"Condition":{"NullIfExists":{"a":"true"}}}`), iam.KindIdentity, "Syntax errors in policy."},
	{"bad date", stmt(`{` + okStmt + `,"Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"bad date without action", stmt(`{"Effect":"Allow","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"bad date before bad partition", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:error:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"short date", stmt(`{` + okStmt + `,"Condition":{"DateLessThanEquals":{"a":"234-13"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"one-digit offset", stmt(`{` + okStmt + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.593194+1"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"ten-digit fraction", stmt(`{` + okStmt + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.1999999999+10:59"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"epoch overflow", stmt(`{` + okStmt + `,"Condition":{"DateLessThan":{"a":"9223372036854775808"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"bad number", stmt(`{` + okStmt + `,"Condition":{"NumericLessThan":{"a":"ten"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"variable in numeric", stmt(`{` + okStmt + `,"Condition":{"NumericEquals":{"aws:EpochTime":"${aws:EpochTime}"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"bad cidr", stmt(`{` + okStmt + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"bad ip", stmt(`{` + okStmt + `,"Condition":{"NotIpAddress":{"aws:SourceIp":"not-an-ip"}}}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"five-part resource", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3::example_bucket"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"five-part resource without action", stmt(`{"Effect":"Allow","Resource":"arn:aws:s3::example_bucket"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"empty service", stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws::::example_bucket"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"empty service, four parts", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws::fdsasf"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"five-part NotResource", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","NotResource":"arn:aws:s3::example_bucket"}`), iam.KindIdentity, "The policy failed legacy parsing"},
	{"duplicate sid", pol(`{"Sid":"sdf",`+okStmt+`}`, `{"Sid":"sdf","Effect":"Allow"}`), iam.KindIdentity, "Statement IDs (SID) in a single policy must be unique."},
	{"duplicate sid in resource policy", pol(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}`, `{"Sid":"a","Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"*"}`), iam.KindResource, "Statement IDs (SID) in a single policy must be unique."},
	{"sid with space in identity policy", stmt(`{"Sid":"my sid",` + okStmt + `}`), iam.KindIdentity, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
	{"no actions", stmt(`{"Effect":"Allow","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity, "Policy statement must contain actions."},
	{"empty action list", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), iam.KindIdentity, "Policy statement must contain actions."},
	{"no actions in first statement", pol(`{"Effect":"Deny"}`, `{`+okStmt+`}`), iam.KindIdentity, "Policy statement must contain actions."},
	{"only effect", stmt(`{"Effect":"Allow"}`), iam.KindIdentity, "Policy statement must contain actions."},
	{"no resources", stmt(`{"Effect":"Allow","Action":"s3:ListBucket"}`), iam.KindIdentity, "Policy statement must contain resources."},
	{"empty resource list", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":[]}`), iam.KindIdentity, "Policy statement must contain resources."},
	{"no resources beats bad action", stmt(`{"Effect":"Allow","Action":"invalid"}`), iam.KindIdentity, "Policy statement must contain resources."},
	{"no resources in key policy", stmt(`{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt"}`), iam.KindKeyPolicy, "Policy statement must contain resources."},
	{"resource not an ARN", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"invalid resource"}`), iam.KindIdentity, `Resource invalid resource must be in ARN format or "*".`},
	{"empty resource", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":""}`), iam.KindIdentity, `Resource  must be in ARN format or "*".`},
	{"resource list not an ARN", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["adf"]}`), iam.KindIdentity, `Resource adf must be in ARN format or "*".`},
	{"resource checked before action", stmt(`{"Effect":"Allow","Action":"s:3:ListBucket","Resource":"sdfsadf"}`), iam.KindIdentity, `Resource sdfsadf must be in ARN format or "*".`},
	{"partition only", stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:bsdfdsafsad"}`), iam.KindIdentity, `Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".`},
	{"partition and service", stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:cadfsdf"}`), iam.KindIdentity, `Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*".`},
	{"partition with many parts", stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:c:d:e:f:g:h"}`), iam.KindIdentity, `Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".`},
	{"missing arn prefix", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"aws:s3:::example_bucket"}`), iam.KindIdentity, `Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".`},
	{"bad partition", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:error:s3:::example_bucket","arn:error:s3::example_bucket"]}`), iam.KindIdentity, `Partition "error" is not valid for resource "arn:error:s3:::example_bucket".`},
	{"no service", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws"}`), iam.KindIdentity, "Resource vendor must be fully qualified and cannot contain regexes."},
	{"wildcard service", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:*:us-east-1:111122223333:thing"}`), iam.KindIdentity, "Resource vendor must be fully qualified and cannot contain regexes."},
	{"iam resource with region", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:us-east-1::example_bucket"}`), iam.KindIdentity, "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."},
	{"s3 resource with region", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:us-east-1::example_bucket"}`), iam.KindIdentity, "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."},
	{"action without vendor", stmt(`{"Effect":"Allow","Action":"invalid","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
	{"empty NotAction", stmt(`{"Effect":"Allow","NotAction":"","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
	{"vendor with space", stmt(`{"Effect":"Allow","Action":"a a:ListBucket","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity, "Vendor a a is not valid"},
	{"vendor wildcard", stmt(`{"Effect":"Allow","Action":"*:Untag*","Resource":"*"}`), iam.KindIdentity, "Vendor * is not valid"},
	{"two colons", stmt(`{"Effect":"Allow","Action":"s3:List:Bucket","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity, "Actions/Condition can contain only one colon."},
	{"two colons in second statement", pol(`{"Effect":"Allow","Action":"s3s:ListBucket","Resource":"*"}`, `{"Effect":"Allow","Action":"s:3s:ListBucket","Resource":"*"}`), iam.KindIdentity, "Actions/Condition can contain only one colon."},

	// Principal rules by kind.
	{"principal in identity policy", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "Policy document should not specify a principal."},
	{"NotPrincipal in identity policy", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:ListBucket","Resource":"*"}`), iam.KindIdentity, "Policy document should not specify a principal."},
	{"principal in boundary", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}`), iam.KindBoundary, "Policy document should not specify a principal."},
	{"principal in session policy", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}`), iam.KindSession, "Policy document should not specify a principal."},
	{"resource policy without principal", stmt(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), iam.KindResource, "Missing required field Principal"},
	{"key policy without principal", stmt(`{"Effect":"Allow","Action":"kms:*","Resource":"*"}`), iam.KindKeyPolicy, "Missing required field Principal"},
	{"trust policy without principal", stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), iam.KindTrust, "Missing required field Principal"},
	{"trust policy with NotPrincipal", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`), iam.KindTrust, "Has prohibited field NotPrincipal"},
	{"trust policy with Resource", stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}`), iam.KindTrust, "Has prohibited field Resource"},
	{"trust policy with NotResource", stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","NotResource":"*"}`), iam.KindTrust, "Has prohibited field NotResource"},
	{"trust policy without action", stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"}}`), iam.KindTrust, "Policy statement must contain actions."},
	{"principal wildcard ARN", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"sts:AssumeRole"}`), iam.KindTrust, `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*"`},
	{"principal wildcard account", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, `Invalid principal in policy: "AWS":"arn:aws:iam::*:root"`},
	{"principal name", stmt(`{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, `Invalid principal in policy: "AWS":"alice"`},
	{"principal group ARN", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/admins"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:group/admins"`},
	{"principal short account", stmt(`{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, `Invalid principal in policy: "AWS":"12345"`},
	{"principal ARN with region", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam:us-east-1:111122223333:user/a"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, `Invalid principal in policy: "AWS":"arn:aws:iam:us-east-1:111122223333:user/a"`},
	{"service principal wildcard", stmt(`{"Effect":"Allow","Principal":{"Service":"*.amazonaws.com"},"Action":"sts:AssumeRole"}`), iam.KindTrust, `Invalid principal in policy: "Service":"*.amazonaws.com"`},
	{"principal string not star", stmt(`{"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"s3:*","Resource":"*"}`), iam.KindResource, "Syntax errors in policy."},
	{"principal unknown type", stmt(`{"Effect":"Allow","Principal":{"Users":"x"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, "Syntax errors in policy."},
	{"principal empty object", stmt(`{"Effect":"Allow","Principal":{},"Action":"s3:*","Resource":"*"}`), iam.KindResource, "Syntax errors in policy."},
	{"principal empty list", stmt(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"s3:*","Resource":"*"}`), iam.KindResource, "Syntax errors in policy."},
	{"Principal and NotPrincipal", stmt(`{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}`), iam.KindResource, "Syntax errors in policy."},
	{"invalid utf-8", "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"\xff\"}}", iam.KindIdentity, "Syntax errors in policy."},
	{"deep nesting", `{"Version":"2012-10-17","Statement":{` + okStmt + `,"Condition":{"StringEquals":{"a":` + nested(100) + `}}}}`, iam.KindIdentity, "Syntax errors in policy."},
}

func nested(n int) string {
	s := `"x"`
	for i := 0; i < n; i++ {
		s = "[" + s + "]"
	}
	return s
}

func TestParseErrors(t *testing.T) {
	for _, c := range parseErrorCases {
		t.Run(c.name, func(t *testing.T) {
			p, err := iam.Parse(c.doc, c.kind)
			if err == nil {
				t.Fatalf("parsed, want %q", c.msg)
			}
			if p != nil {
				t.Fatal("non-nil policy with an error")
			}
			var pe *iam.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, iam.ErrMalformedPolicy) {
				t.Fatalf("error %T %v is not a *PolicyError wrapping ErrMalformedPolicy", err, err)
			}
			if pe.Message != c.msg {
				t.Fatalf("message %q, want %q (detail: %s)", pe.Message, c.msg, pe.Detail)
			}
			if e := err.Error(); e == "" || e[0] < 'a' || e[0] > 'z' {
				t.Fatalf("Error() should start lower-case: %q", e)
			}
		})
	}
}

// validDocs must parse.
var validDocs = []struct {
	name string
	doc  string
	kind iam.Kind
}{
	{"resource list", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:aws:s3:::example_bucket"]}`), iam.KindIdentity},
	{"action with spaces", stmt(`{"Effect":"Allow","Action":"iam: asdf safdsf af ","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity},
	{"resource list with star", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:aws:s3:::example_bucket","*"]}`), iam.KindIdentity},
	{"star action", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::example_bucket"}`), iam.KindIdentity},
	{"statement object", `{"Version":"2012-10-17","Statement":{` + okStmt + `}}`, iam.KindIdentity},
	{"no version", `{"Statement":{` + okStmt + `}}`, iam.KindIdentity},
	{"2008 version", `{"Version":"2008-10-17","Statement":{` + okStmt + `}}`, iam.KindIdentity},
	{"date window", stmt(`{"Effect":"Allow","Action":"service-prefix:action-name","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2017-07-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2017-12-31T23:59:59Z"}}}`), iam.KindIdentity},
	{"unknown service in resource", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s33:::example_bucket"}`), iam.KindIdentity},
	{"three-part resource", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:fdsasf"}`), iam.KindIdentity},
	{"four-part resource", stmt(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*"}`), iam.KindIdentity},
	{"empty condition", stmt(`{` + okStmt + `,"Condition":{}}`), iam.KindIdentity},
	{"ForAllValues", stmt(`{` + okStmt + `,"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"Department"}}}`), iam.KindIdentity},
	{"region for other services", stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:cloudwatch:us-east-1::example_bucket"}`), iam.KindIdentity},
	{"operator without keys", stmt(`{` + okStmt + `,"Condition":{"DateGreaterThan":{}}}`), iam.KindIdentity},
	{"key with empty values", stmt(`{` + okStmt + `,"Condition":{"DateGreaterThan":{"a":[]}}}`), iam.KindIdentity},
	{"unknown operator without keys", stmt(`{` + okStmt + `,"Condition":{"x":{},"y":{}}}`), iam.KindIdentity},
	{"StringEqualsIfExists", stmt(`{` + okStmt + `,"Condition":{"StringEqualsIfExists":{"a":"asf"}}}`), iam.KindIdentity},
	{"ForAnyValue IfExists", stmt(`{` + okStmt + `,"Condition":{"ForAnyValue:StringEqualsIfExists":{"a":"asf"}}}`), iam.KindIdentity},
	{"date with offset", stmt(`{` + okStmt + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13T21:20:37.593194+00:00"}}}`), iam.KindIdentity},
	{"date lower t and hour offset", stmt(`{` + okStmt + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.593194+23"}}}`), iam.KindIdentity},
	{"negative epoch", stmt(`{` + okStmt + `,"Condition":{"DateLessThan":{"a":"-292275054"}}}`), iam.KindIdentity},
	{"numeric values of every JSON kind", stmt(`{` + okStmt + `,"Condition":{"NumericLessThan":{"a":[1,"2",3.5,-4e2]}}}`), iam.KindIdentity},
	{"bool value", stmt(`{` + okStmt + `,"Condition":{"Bool":{"aws:SecureTransport":false}}}`), iam.KindIdentity},
	{"sid-less and sid", pol(`{"Sid":"sdf",`+okStmt+`}`, `{`+okStmt+`}`), iam.KindIdentity},
	{"MFA self-service", stmt(`{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`), iam.KindIdentity},
	{"cognito variable", stmt(`{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::bucket-name/cognito/application-name/${cognito-identity.amazonaws.com:sub}/*"]}`), iam.KindIdentity},
	{"unicode escapes", stmt(`{"Sid":"\u0041b","Effect":"Allow","Action":"s3:Get\u002a","Resource":"arn:aws:s3:::b/\ud83d\ude00"}`), iam.KindIdentity},
	{"default key policy", defaultKeyPolicy, iam.KindKeyPolicy},
	{"IRSA trust", irsaTrust, iam.KindTrust},
	{"trust with service list", stmt(`{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]}`), iam.KindTrust},
	{"resource policy with sid spaces", stmt(`{"Sid":"Allow read for the app","Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), iam.KindResource},
	{"resource policy every principal form", stmt(`{"Effect":"Allow","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:root","` + aliceARN + `","` + roleARN + `","` + sessionARN + `","arn:aws:sts::111122223333:federated-user/fed","AIDAALICEEXAMPLE12345","AROAAPPROLEEXAMPLE123"],"Service":"lambda.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"secretsmanager:*","Resource":"*"}`), iam.KindResource},
	{"resource policy NotPrincipal deny", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","111122223333"]},"Action":"secretsmanager:*","Resource":"*"}`), iam.KindResource},
	{"whitespace everywhere", "\n {\n\t\"Version\" : \"2012-10-17\" ,\r\n \"Statement\" : [ { \"Effect\" : \"Allow\" , \"Action\" : [ ] , \"NotAction\" : \"*\" } ] } \n", iam.KindTrust},
}

func TestParseValid(t *testing.T) {
	for _, c := range validDocs {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "whitespace everywhere" {
				// Action [] with NotAction "*" is a syntax error (both
				// present); this document checks whitespace handling only.
				_, err := iam.Parse(c.doc, c.kind)
				if msgOf(err) != "Syntax errors in policy." {
					t.Fatalf("err %v", err)
				}
				return
			}
			p := mustParse(t, c.doc, c.kind)
			if p.Kind() != c.kind || p.Len() == 0 {
				t.Fatalf("kind %v len %d", p.Kind(), p.Len())
			}
		})
	}
}

func TestPolicyAccessors(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["111122223333","`+aliceARN+`"],"Service":"ec2.amazonaws.com"},"Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"kms:Delete*","Resource":"*"}]}`, iam.KindKeyPolicy)
	if p.Version() != "2012-10-17" || p.ID() != "key-default-1" || p.Len() != 2 || p.Sid(0) != "A" || p.Sid(1) != "" {
		t.Fatalf("accessors: %q %q %d %q", p.Version(), p.ID(), p.Len(), p.Sid(0))
	}
	got := p.Principals()
	want := []iam.PrincipalRef{{"AWS", "111122223333"}, {"AWS", aliceARN}, {"Service", "ec2.amazonaws.com"}, {"*", "*"}}
	if len(got) != len(want) {
		t.Fatalf("principals %v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("principal %d = %v, want %v", i, got[i], want[i])
		}
	}
	e := iam.NewInvalidPrincipalError(got[1])
	if e.Message != `Invalid principal in policy: "AWS":"`+aliceARN+`"` || !errors.Is(e, iam.ErrMalformedPolicy) {
		t.Fatalf("invalid principal error %q", e.Message)
	}
}

func TestValidHelpers(t *testing.T) {
	for _, a := range []string{"*", "secretsmanager:GetSecretValue", "secretsmanager:*", "kms:Re*", "sts:AssumeRole?"} {
		if !iam.ValidAction(a) {
			t.Errorf("ValidAction(%q) = false", a)
		}
	}
	for _, a := range []string{"", "GetSecretValue", "a:b:c", "*:Get*", "a b:c"} {
		if iam.ValidAction(a) {
			t.Errorf("ValidAction(%q) = true", a)
		}
	}
	for _, op := range []string{"StringEquals", "ForAnyValue:StringLike", "ForAllValues:ArnNotLikeIfExists", "Null", "NumericGreaterThanEqualsIfExists", "BinaryEquals"} {
		if !iam.ValidConditionOperator(op) {
			t.Errorf("ValidConditionOperator(%q) = false", op)
		}
	}
	for _, op := range []string{"", "stringequals", "NullIfExists", "ForAnyValue:", "ForSomeValues:StringEquals", "StringEqualsIfExistsIfExists"} {
		if iam.ValidConditionOperator(op) {
			t.Errorf("ValidConditionOperator(%q) = true", op)
		}
	}
}
