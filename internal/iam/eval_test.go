package iam_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/iam"
)

// evalCase is one authorization question with the answer AWS documents.
type evalCase struct {
	name string
	id   []string // identity-based policies
	res  string   // resource policy
	rk   iam.Kind // kind of res (default KindResource)
	bnd  string   // permissions boundary
	ses  []string // session policies
	p    *iam.Principal
	act  string // default GetSecretValue
	arn  string // default secretARN
	ctx  map[string][]string
	now  time.Time
	want iam.Reason
}

// condCase tests one condition operator: an identity policy allows
// GetSecretValue on "*" with Condition {op: {key: val}}; ctx is the value
// list of key in the request (nil: key missing).
type condCase struct {
	op, key, val string
	ctx          []string
	want         bool
}

const ok, no = true, false

var condCases = []condCase{
	// String operators (reference_policies_elements_condition_operators: String).
	{"StringEquals", "test:k", `"a"`, []string{"a"}, ok},
	{"StringEquals", "test:k", `"a"`, []string{"A"}, no},
	{"StringEquals", "test:k", `["a","b"]`, []string{"b"}, ok},
	{"StringEquals", "test:k", `"a"`, nil, no},
	{"StringEquals", "test:k", `"a*"`, []string{"abc"}, no},
	{"StringEquals", "test:k", `"a*"`, []string{"a*"}, ok},
	{"StringEquals", "test:k", `10`, []string{"10"}, ok},
	{"StringEquals", "test:k", `true`, []string{"true"}, ok},
	{"StringEquals", "test:k", `"a"`, []string{"x", "a"}, ok},
	{"StringNotEquals", "test:k", `"a"`, []string{"b"}, ok},
	{"StringNotEquals", "test:k", `"a"`, []string{"a"}, no},
	{"StringNotEquals", "test:k", `["a","b"]`, []string{"b"}, no},
	{"StringNotEquals", "test:k", `["a","b"]`, []string{"c"}, ok},
	{"StringNotEquals", "test:k", `"a"`, nil, ok},
	{"StringNotEquals", "test:k", `"a"`, []string{"b", "a"}, no},
	{"StringEqualsIgnoreCase", "test:k", `"Prod"`, []string{"pROD"}, ok},
	{"StringEqualsIgnoreCase", "test:k", `"prod"`, []string{"production"}, no},
	{"StringEqualsIgnoreCase", "test:k", `"ÉCOLE"`, []string{"école"}, ok},
	{"StringEqualsIgnoreCase", "test:k", `"prod"`, nil, no},
	{"StringNotEqualsIgnoreCase", "test:k", `"prod"`, []string{"PROD"}, no},
	{"StringNotEqualsIgnoreCase", "test:k", `"prod"`, []string{"dev"}, ok},
	{"StringNotEqualsIgnoreCase", "test:k", `"prod"`, nil, ok},
	{"StringLike", "test:k", `"prod/*"`, []string{"prod/db"}, ok},
	{"StringLike", "test:k", `"prod/*"`, []string{"Prod/db"}, no},
	{"StringLike", "test:k", `"prod/??"`, []string{"prod/ab"}, ok},
	{"StringLike", "test:k", `"prod/??"`, []string{"prod/abc"}, no},
	{"StringLike", "test:k", `"*"`, []string{"anything"}, ok},
	{"StringLike", "test:k", `"*"`, nil, no},
	{"StringLike", "test:k", `"a*b*c"`, []string{"aXXbYYc"}, ok},
	{"StringLike", "test:k", `"a*b*c"`, []string{"aXXbYY"}, no},
	{"StringLike", "test:k", `"café*"`, []string{"cafés"}, ok},
	{"StringLike", "test:k", `"?"`, []string{"é"}, ok},
	{"StringLike", "test:k", `""`, []string{""}, ok},
	{"StringLike", "test:k", `"*/*"`, []string{"a:b/c"}, ok},
	{"StringLike", "test:k", `["x*","y*"]`, []string{"yes"}, ok},
	{"StringNotLike", "test:k", `"prod/*"`, []string{"dev/x"}, ok},
	{"StringNotLike", "test:k", `"prod/*"`, []string{"prod/x"}, no},
	{"StringNotLike", "test:k", `"prod/*"`, nil, ok},
	{"StringNotLike", "test:k", `["prod/*","stage/*"]`, []string{"stage/x"}, no},
	{"StringEqualsIfExists", "test:k", `"a"`, nil, ok},
	{"StringEqualsIfExists", "test:k", `"a"`, []string{"b"}, no},
	{"StringEqualsIfExists", "test:k", `"a"`, []string{"a"}, ok},
	{"StringNotEqualsIfExists", "test:k", `"a"`, nil, ok},
	{"StringNotEqualsIfExists", "test:k", `"a"`, []string{"a"}, no},
	{"StringLikeIfExists", "test:k", `"x*"`, []string{"y"}, no},
	{"StringLikeIfExists", "test:k", `"x*"`, nil, ok},
	{"StringNotLikeIfExists", "test:k", `"x*"`, []string{"xy"}, no},

	// Numeric.
	{"NumericEquals", "test:n", `10`, []string{"10"}, ok},
	{"NumericEquals", "test:n", `"10"`, []string{"10.0"}, ok},
	{"NumericEquals", "test:n", `10`, []string{"11"}, no},
	{"NumericEquals", "test:n", `[1,2,3]`, []string{"2"}, ok},
	{"NumericEquals", "test:n", `10`, []string{"ten"}, no},
	{"NumericNotEquals", "test:n", `10`, []string{"11"}, ok},
	{"NumericNotEquals", "test:n", `10`, []string{"10"}, no},
	{"NumericNotEquals", "test:n", `10`, nil, ok},
	{"NumericNotEquals", "test:n", `10`, []string{"ten"}, ok},
	{"NumericLessThan", "test:n", `30`, []string{"7"}, ok},
	{"NumericLessThan", "test:n", `30`, []string{"30"}, no},
	{"NumericLessThan", "test:n", `0`, []string{"-1"}, ok},
	{"NumericLessThan", "test:n", `10`, nil, no},
	{"NumericLessThanIfExists", "test:n", `10`, nil, ok},
	{"NumericLessThanIfExists", "test:n", `10`, []string{"11"}, no},
	{"NumericLessThanEquals", "test:n", `30`, []string{"30"}, ok},
	{"NumericLessThanEquals", "test:n", `30`, []string{"30.01"}, no},
	{"NumericGreaterThan", "test:n", `7`, []string{"8"}, ok},
	{"NumericGreaterThan", "test:n", `7`, []string{"7"}, no},
	{"NumericGreaterThan", "test:n", `1e3`, []string{"1001"}, ok},
	{"NumericGreaterThanEquals", "test:n", `7`, []string{"7"}, ok},
	{"NumericGreaterThanEquals", "test:n", `7`, []string{"6.5"}, no},
	{"NumericGreaterThanEquals", "secretsmanager:RecoveryWindowInDays", `14`, []string{"7"}, no},
	{"NumericGreaterThanEquals", "secretsmanager:RecoveryWindowInDays", `14`, []string{"30"}, ok},

	// Date.
	{"DateGreaterThan", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2021-06-01T12:00:00Z"}, ok},
	{"DateGreaterThan", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2019-12-31T23:59:59Z"}, no},
	{"DateGreaterThan", "test:d", `"2020-01-01T00:00:00Z"`, []string{"garbage"}, no},
	{"DateGreaterThan", "test:d", `"2020-01-01T00:00:00.5Z"`, []string{"2020-01-01T00:00:00.6Z"}, ok},
	{"DateGreaterThan", "test:d", `"2020-01-01T00:00:00-05:00"`, []string{"2020-01-01T04:00:00Z"}, no},
	{"DateGreaterThan", "test:d", `"2020-01-01T00:00:00-05:00"`, []string{"2020-01-01T06:00:00Z"}, ok},
	{"DateLessThan", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2019-12-31T23:59:59Z"}, ok},
	{"DateLessThan", "test:d", `"2020-01-01T00:00:00Z"`, []string{"1577836799"}, ok},
	{"DateLessThan", "test:d", `"2020-01-01T00:00:00Z"`, nil, no},
	{"DateLessThanIfExists", "test:d", `"2020-01-01T00:00:00Z"`, nil, ok},
	{"DateLessThanEquals", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2020-01-01T00:00:00Z"}, ok},
	{"DateEquals", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2020-01-01T01:00:00+01:00"}, ok},
	{"DateEquals", "test:d", `"2020-01-01"`, []string{"2020-01-01T00:00:00Z"}, ok},
	{"DateEquals", "test:d", `"2020-01-01T00:00:00+0100"`, []string{"2019-12-31T23:00:00Z"}, ok},
	{"DateNotEquals", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2020-01-02T00:00:00Z"}, ok},
	{"DateNotEquals", "test:d", `"2020-01-01T00:00:00Z"`, []string{"2020-01-01T00:00:00Z"}, no},
	{"DateNotEquals", "test:d", `"2020-01-01T00:00:00Z"`, nil, ok},
	{"DateGreaterThanEquals", "test:d", `"1577836800"`, []string{"2020-01-01T00:00:00Z"}, ok},
	{"DateGreaterThanEquals", "test:d", `1577836800`, []string{"2019-12-31T23:59:59Z"}, no},

	// Bool.
	{"Bool", "aws:SecureTransport", `"true"`, []string{"true"}, ok},
	{"Bool", "aws:SecureTransport", `true`, []string{"true"}, ok},
	{"Bool", "aws:SecureTransport", `"true"`, []string{"false"}, no},
	{"Bool", "aws:SecureTransport", `"false"`, []string{"false"}, ok},
	{"Bool", "aws:SecureTransport", `"true"`, []string{"TRUE"}, ok},
	{"Bool", "aws:SecureTransport", `"true"`, nil, no},
	{"BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, nil, ok},
	{"BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, []string{"true"}, no},

	// Binary.
	{"BinaryEquals", "test:b", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, []string{"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, ok},
	{"BinaryEquals", "test:b", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, []string{"b3RoZXI="}, no},
	{"BinaryEquals", "test:b", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, nil, no},
	{"BinaryEqualsIfExists", "test:b", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, nil, ok},

	// IP addresses.
	{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, []string{"203.0.113.7"}, ok},
	{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, []string{"203.0.114.7"}, no},
	{"IpAddress", "aws:SourceIp", `"203.0.113.7"`, []string{"203.0.113.7"}, ok},
	{"IpAddress", "aws:SourceIp", `"203.0.113.7"`, []string{"203.0.113.8"}, no},
	{"IpAddress", "aws:SourceIp", `"2001:DB8:1234:5678::/64"`, []string{"2001:db8:1234:5678::1"}, ok},
	{"IpAddress", "aws:SourceIp", `"2001:DB8:1234:5678::/64"`, []string{"2001:db8:1234:5679::1"}, no},
	{"IpAddress", "aws:SourceIp", `"2001:db8::1"`, []string{"2001:db8::1"}, ok},
	{"IpAddress", "aws:SourceIp", `"2001:db8::1"`, []string{"2001:db8::2"}, no},
	{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`, []string{"::ffff:10.1.2.3"}, ok},
	{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`, []string{"2001:db8::1"}, no},
	{"IpAddress", "aws:SourceIp", `["10.0.0.0/8","192.168.0.0/16"]`, []string{"192.168.3.4"}, ok},
	{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`, []string{"not-an-ip"}, no},
	{"IpAddress", "aws:SourceIp", `"0.0.0.0/0"`, []string{"8.8.8.8"}, ok},
	{"IpAddress", "aws:SourceIp", `"10.0.0.0/8"`, nil, no},
	{"IpAddressIfExists", "aws:SourceIp", `"10.0.0.0/8"`, nil, ok},
	{"NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`, []string{"192.168.1.1"}, ok},
	{"NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`, []string{"10.1.1.1"}, no},
	{"NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`, nil, ok},
	{"NotIpAddress", "aws:SourceIp", `"10.0.0.0/8"`, []string{"not-an-ip"}, ok},
	{"NotIpAddress", "aws:SourceIp", `["10.0.0.0/8","2001:db8::/32"]`, []string{"2001:db8::5"}, no},

	// ARN operators compare the six parts one by one.
	{"ArnLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/*"`, []string{roleARN}, ok},
	{"ArnLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/*"`, []string{"arn:aws:iam::444455556666:role/x"}, no},
	{"ArnLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/admin"`, []string{"arn:aws:iam::111122223333:role/Admin"}, no},
	{"ArnLike", "aws:SourceArn", `"arn:*:iam::111122223333:role/x"`, []string{"arn:aws:iam::111122223333:role/x"}, ok},
	{"ArnLike", "aws:SourceArn", `"arn:*:iam::111122223333:role/x"`, []string{"arn:aws:extra:iam::111122223333:role/x"}, no},
	{"ArnLike", "aws:SourceArn", `"arn:aws:secretsmanager:*:111122223333:secret:prod*"`, []string{secretARN}, ok},
	{"ArnLike", "aws:SourceArn", `"arn:aws:secretsmanager:us-east-?:111122223333:secret:*"`, []string{secretARN}, ok},
	{"ArnLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/*"`, []string{"foo"}, no},
	{"ArnLike", "aws:SourceArn", `"*"`, []string{roleARN}, ok},
	{"ArnLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/*"`, nil, no},
	{"ArnLikeIfExists", "aws:SourceArn", `"arn:aws:iam::111122223333:role/*"`, nil, ok},
	{"ArnEquals", "aws:SourceArn", `"arn:aws:iam::111122223333:role/app/AppRole"`, []string{roleARN}, ok},
	{"ArnEquals", "aws:SourceArn", `"arn:aws:iam::*:role/app/AppRole"`, []string{roleARN}, ok},
	{"ArnEquals", "aws:SourceArn", `"arn:aws:iam::111122223333:role/app/AppRole"`, []string{"arn:aws:iam::111122223333:role/app/AppRole2"}, no},
	{"ArnNotLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/Admin*"`, []string{"arn:aws:iam::111122223333:role/Dev"}, ok},
	{"ArnNotLike", "aws:SourceArn", `"arn:aws:iam::111122223333:role/Admin*"`, []string{"arn:aws:iam::111122223333:role/AdminX"}, no},
	{"ArnNotEquals", "aws:SourceArn", `"arn:aws:iam::111122223333:role/Admin"`, nil, ok},
	{"ArnNotEquals", "aws:SourceArn", `"arn:aws:iam::111122223333:role/Admin"`, []string{"arn:aws:iam::111122223333:role/Admin"}, no},

	// Null.
	{"Null", "aws:TokenIssueTime", `"true"`, nil, ok},
	{"Null", "aws:TokenIssueTime", `"true"`, []string{"2026-01-01T00:00:00Z"}, no},
	{"Null", "aws:TokenIssueTime", `"false"`, []string{"2026-01-01T00:00:00Z"}, ok},
	{"Null", "aws:TokenIssueTime", `"false"`, nil, no},
	{"Null", "aws:TokenIssueTime", `true`, nil, ok},
	{"Null", "aws:TagKeys", `"true"`, []string{}, ok},

	// Set operators on multivalued keys (reference_policies_condition-single-vs-multi-valued).
	{"ForAllValues:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, []string{"Environment"}, ok},
	{"ForAllValues:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, []string{"Environment", "Owner"}, no},
	{"ForAllValues:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, nil, ok},
	{"ForAllValues:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, []string{}, ok},
	{"ForAnyValue:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, []string{"Owner", "CostCenter"}, ok},
	{"ForAnyValue:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, []string{"Owner"}, no},
	{"ForAnyValue:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, nil, no},
	{"ForAnyValue:StringEquals", "aws:TagKeys", `["Environment","CostCenter"]`, []string{}, no},
	{"ForAllValues:StringLike", "aws:TagKeys", `"key*"`, []string{"key1", "key2"}, ok},
	{"ForAllValues:StringLike", "aws:TagKeys", `"key*"`, []string{"key1", "other"}, no},
	{"ForAnyValue:StringLike", "aws:TagKeys", `"env*"`, []string{"x", "environment"}, ok},
	{"ForAnyValue:StringNotEquals", "aws:TagKeys", `"a"`, []string{"a", "b"}, ok},
	{"ForAnyValue:StringNotEquals", "aws:TagKeys", `"a"`, []string{"a"}, no},
	{"ForAnyValue:StringNotEquals", "aws:TagKeys", `"a"`, nil, no},
	{"ForAllValues:StringNotEquals", "aws:TagKeys", `["a","b"]`, []string{"c", "d"}, ok},
	{"ForAllValues:StringNotEquals", "aws:TagKeys", `["a","b"]`, []string{"c", "a"}, no},
	{"ForAllValues:StringNotEquals", "aws:TagKeys", `["a","b"]`, nil, ok},
	{"ForAllValues:StringEqualsIgnoreCase", "aws:TagKeys", `"environment"`, []string{"ENVIRONMENT", "Environment"}, ok},
	{"ForAnyValue:StringEqualsIfExists", "aws:TagKeys", `"a"`, nil, ok},
	{"ForAnyValue:NumericEquals", "test:n", `1`, []string{"2", "1"}, ok},
	{"ForAllValues:StringEquals", "secretsmanager:AddReplicaRegions", `["eu-west-1","eu-central-1"]`, []string{"eu-west-1"}, ok},
	{"ForAllValues:StringEquals", "secretsmanager:AddReplicaRegions", `["eu-west-1","eu-central-1"]`, []string{"eu-west-1", "us-east-1"}, no},
	{"ForAnyValue:StringEquals", "secretsmanager:AddReplicaRegions", `"us-east-1"`, []string{"eu-west-1", "us-east-1"}, ok},

	// Condition key names are case-insensitive; tag-key parts too; values not.
	{"IpAddress", "AWS:SOURCEIP", `"10.0.0.0/8"`, []string{"10.0.0.1"}, ok},
	{"StringEquals", "aws:ResourceTag/TEAM", `"payments"`, []string{"payments"}, ok},
	{"StringEquals", "aws:ResourceTag/team", `"Payments"`, []string{"payments"}, no},
	{"StringEquals", "secretsmanager:ResourceTag/Env", `"prod"`, []string{"prod"}, ok},
}

// The request context of a condCase puts the key in a different case from
// the policy, to exercise case-insensitive lookup.
func condCtxKey(k string) string {
	if strings.ToLower(k) == k {
		return strings.ToUpper(k[:1]) + k[1:]
	}
	return strings.ToLower(k)
}

// sm is a Secrets Manager statement on every secret.
func sm(effect, action, extra string) string {
	s := `{"Effect":"` + effect + `","Action":"` + action + `","Resource":"*"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

var evalCases = []evalCase{
	// ---- Default deny, Action and Resource matching ----
	{name: "no policies", want: iam.DeniedNoIdentity},
	{name: "allow all", id: []string{allowAll}, want: iam.AllowedByIdentity},
	{name: "Get* prefix", id: []string{pol(sm("Allow", "secretsmanager:Get*", ""))}, want: iam.AllowedByIdentity},
	{name: "Get* covers GetRandomPassword", id: []string{pol(sm("Allow", "secretsmanager:Get*", ""))}, act: "secretsmanager:GetRandomPassword", arn: "*", want: iam.AllowedByIdentity},
	{name: "Get* excludes List", id: []string{pol(sm("Allow", "secretsmanager:Get*", ""))}, act: "secretsmanager:ListSecrets", arn: "*", want: iam.DeniedNoIdentity},
	{name: "action case-insensitive", id: []string{pol(sm("Allow", "SecretsManager:getsecretvalue", ""))}, want: iam.AllowedByIdentity},
	{name: "request action case-insensitive", id: []string{pol(sm("Allow", "secretsmanager:GetSecretValue", ""))}, act: "SECRETSMANAGER:GETSECRETVALUE", want: iam.AllowedByIdentity},
	{name: "service wildcard", id: []string{pol(sm("Allow", "secretsmanager:*", ""))}, act: "secretsmanager:DeleteSecret", want: iam.AllowedByIdentity},
	{name: "service wildcard other service", id: []string{pol(sm("Allow", "secretsmanager:*", ""))}, act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoIdentity},
	{name: "star action", id: []string{pol(sm("Allow", "*", ""))}, act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByIdentity},
	{name: "infix wildcard", id: []string{pol(sm("Allow", "secretsmanager:*Secret*", ""))}, act: "secretsmanager:DescribeSecret", want: iam.AllowedByIdentity},
	{name: "infix wildcard no match", id: []string{pol(sm("Allow", "secretsmanager:*Secret*", ""))}, act: "secretsmanager:GetResourcePolicy", want: iam.DeniedNoIdentity},
	{name: "question mark action", id: []string{pol(sm("Allow", "secretsmanager:Get?ecretValue", ""))}, want: iam.AllowedByIdentity},
	{name: "exact action is not a prefix", id: []string{pol(sm("Allow", "secretsmanager:GetSecretValu", ""))}, want: iam.DeniedNoIdentity},
	{name: "action list", id: []string{pol(`{"Effect":"Allow","Action":["secretsmanager:DescribeSecret","secretsmanager:GetSecretValue"],"Resource":"*"}`)}, want: iam.AllowedByIdentity},
	{name: "statement as object", id: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`}, want: iam.AllowedByIdentity},
	{name: "resource prod/payments/*", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:prod/payments/*"}`)}, want: iam.AllowedByIdentity},
	{name: "resource prod/payments/* other path", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:prod/payments/*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/other/db-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "NAME-?????? matches the suffix", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-??????"}`)}, want: iam.AllowedByIdentity},
	{name: "NAME-?????? rejects 7 chars", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-??????"}`)}, arn: secretARN + "G", want: iam.DeniedNoIdentity},
	{name: "NAME-?????? rejects NAME-other-suffix", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-??????"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-old-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "NAME-* also matches NAME-other-suffix", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-old-AbCdEf", want: iam.AllowedByIdentity},
	{name: "resource case-sensitive", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:Prod/*"}`)}, want: iam.DeniedNoIdentity},
	{name: "star crosses colons and slashes", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*"}`)}, want: iam.AllowedByIdentity},
	{name: "region mismatch", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:*"}`)}, want: iam.DeniedNoIdentity},
	{name: "resource list", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":["arn:aws:secretsmanager:*:*:secret:dev/*","arn:aws:secretsmanager:*:*:secret:prod/*"]}`)}, want: iam.AllowedByIdentity},
	{name: "ListSecrets needs Resource *", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"arn:aws:secretsmanager:*:*:secret:*"}`)}, act: "secretsmanager:ListSecrets", arn: "*", want: iam.DeniedNoIdentity},
	{name: "ListSecrets with Resource *", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}`)}, act: "secretsmanager:ListSecrets", arn: "*", want: iam.AllowedByIdentity},
	{name: "second identity policy allows", id: []string{pol(sm("Allow", "secretsmanager:DescribeSecret", "")), pol(sm("Allow", getSecret, ""))}, want: iam.AllowedByIdentity},

	// ---- NotAction / NotResource ----
	{name: "NotAction allows others", id: []string{pol(`{"Effect":"Allow","NotAction":"secretsmanager:DeleteSecret","Resource":"*"}`)}, want: iam.AllowedByIdentity},
	{name: "NotAction excludes listed", id: []string{pol(`{"Effect":"Allow","NotAction":"secretsmanager:DeleteSecret","Resource":"*"}`)}, act: "secretsmanager:DeleteSecret", want: iam.DeniedNoIdentity},
	{name: "NotAction case-insensitive", id: []string{pol(`{"Effect":"Allow","NotAction":"SECRETSMANAGER:deletesecret","Resource":"*"}`)}, act: "secretsmanager:DeleteSecret", want: iam.DeniedNoIdentity},
	{name: "NotAction allows other services", id: []string{pol(`{"Effect":"Allow","NotAction":"secretsmanager:*","Resource":"*"}`)}, act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByIdentity},
	{name: "Deny NotAction denies others", id: []string{allowAll, pol(`{"Effect":"Deny","NotAction":"secretsmanager:Get*","Resource":"*"}`)}, act: "secretsmanager:PutSecretValue", want: iam.DeniedExplicitIdentity},
	{name: "Deny NotAction spares listed", id: []string{allowAll, pol(`{"Effect":"Deny","NotAction":"secretsmanager:Get*","Resource":"*"}`)}, want: iam.AllowedByIdentity},
	{name: "NotResource allows others", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}`)}, arn: devARN, want: iam.AllowedByIdentity},
	{name: "NotResource excludes listed", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}`)}, want: iam.DeniedNoIdentity},
	{name: "Deny NotResource denies others", id: []string{allowAll, pol(`{"Effect":"Deny","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}`)}, arn: devARN, want: iam.DeniedExplicitIdentity},
	{name: "Deny NotResource spares listed", id: []string{allowAll, pol(`{"Effect":"Deny","Action":"secretsmanager:*","NotResource":"arn:aws:secretsmanager:*:*:secret:prod/*"}`)}, want: iam.AllowedByIdentity},
	{name: "NotAction with NotResource", id: []string{pol(`{"Effect":"Allow","NotAction":"secretsmanager:Delete*","NotResource":"arn:aws:secretsmanager:*:*:secret:dev/*"}`)}, want: iam.AllowedByIdentity},
	{name: "NotAction with NotResource excluded resource", id: []string{pol(`{"Effect":"Allow","NotAction":"secretsmanager:Delete*","NotResource":"arn:aws:secretsmanager:*:*:secret:dev/*"}`)}, arn: devARN, want: iam.DeniedNoIdentity},

	// ---- Multiple conditions: operators and keys AND, values OR ----
	{name: "two keys both hold", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod","aws:ResourceTag/team":"payments"}}`))}, ctx: map[string][]string{"aws:ResourceTag/env": {"prod"}, "aws:ResourceTag/team": {"payments"}}, want: iam.AllowedByIdentity},
	{name: "two keys one fails", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod","aws:ResourceTag/team":"payments"}}`))}, ctx: map[string][]string{"aws:ResourceTag/env": {"prod"}, "aws:ResourceTag/team": {"web"}}, want: iam.DeniedNoIdentity},
	{name: "two operators both hold", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`))}, ctx: map[string][]string{"aws:ResourceTag/env": {"prod"}, "aws:SourceIp": {"10.2.3.4"}}, want: iam.AllowedByIdentity},
	{name: "two operators one fails", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`))}, ctx: map[string][]string{"aws:ResourceTag/env": {"prod"}, "aws:SourceIp": {"192.0.2.1"}}, want: iam.DeniedNoIdentity},
	{name: "empty Condition block", id: []string{pol(sm("Allow", getSecret, `"Condition":{}`))}, want: iam.AllowedByIdentity},

	// ---- Keys derived from the principal and the clock ----
	{name: "aws:username user", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:username":"alice"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:username absent for sessions", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:username":"alice"}}`))}, p: session(), want: iam.DeniedNoIdentity},
	{name: "Null aws:username for sessions", id: []string{pol(sm("Allow", getSecret, `"Condition":{"Null":{"aws:username":"true"}}`))}, p: session(), want: iam.AllowedByIdentity},
	{name: "aws:PrincipalType User", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:PrincipalType":"User"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:PrincipalType AssumedRole", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`))}, p: session(), want: iam.AllowedByIdentity},
	{name: "aws:userid user", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:userid":"AIDAALICEEXAMPLE12345"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:userid role session pattern", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringLike":{"aws:userid":"AROAAPPROLEEXAMPLE123:*"}}`))}, p: session(), want: iam.AllowedByIdentity},
	{name: "aws:PrincipalArn of a session is the role", id: []string{pol(sm("Allow", getSecret, `"Condition":{"ArnEquals":{"aws:PrincipalArn":"`+roleARN+`"}}`))}, p: session(), want: iam.AllowedByIdentity},
	{name: "aws:PrincipalArn of a session is not the session", id: []string{pol(sm("Allow", getSecret, `"Condition":{"ArnEquals":{"aws:PrincipalArn":"`+sessionARN+`"}}`))}, p: session(), want: iam.DeniedNoIdentity},
	{name: "aws:PrincipalAccount", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:PrincipalIsAWSService false", id: []string{pol(sm("Allow", getSecret, `"Condition":{"Bool":{"aws:PrincipalIsAWSService":"false"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:PrincipalTag", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:PrincipalTag key case-insensitive", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:PrincipalTag/COSTCENTER":"cc-42"}}`))}, want: iam.AllowedByIdentity},
	{name: "aws:PrincipalTag missing", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`))}, p: bob(), want: iam.DeniedNoIdentity},
	{name: "context overrides derived keys", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:username":"mallory"}}`))}, ctx: map[string][]string{"aws:username": {"mallory"}}, want: iam.AllowedByIdentity},
	{name: "aws:CurrentTime from Request.Time", id: []string{pol(sm("Allow", getSecret, `"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`))}, now: now2026, want: iam.AllowedByIdentity},
	{name: "aws:CurrentTime window closed", id: []string{pol(sm("Allow", getSecret, `"Condition":{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`))}, now: now2026, want: iam.DeniedNoIdentity},
	{name: "aws:CurrentTime missing without Time", id: []string{pol(sm("Allow", getSecret, `"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`))}, want: iam.DeniedNoIdentity},
	{name: "aws:EpochTime numeric", id: []string{pol(sm("Allow", getSecret, `"Condition":{"NumericGreaterThan":{"aws:EpochTime":1577836800}}`))}, now: now2026, want: iam.AllowedByIdentity},
	{name: "aws:EpochTime date", id: []string{pol(sm("Allow", getSecret, `"Condition":{"DateLessThan":{"aws:EpochTime":"2030-01-01T00:00:00Z"}}`))}, now: now2026, want: iam.AllowedByIdentity},

	// ---- Policy variables (reference_policies_variables) ----
	{name: "${aws:username} in Resource", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/db-AbCdEf", want: iam.AllowedByIdentity},
	{name: "${aws:username} other user", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}`)}, p: bob(), arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/db-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "${aws:username} without value matches nothing", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}*"}`)}, p: session(), arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "variables are literal in 2008-10-17", id: []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}]}`}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/db-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "literal variable text matches in 2008-10-17", id: []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}]}`}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:${aws:username}/db-AbCdEf", want: iam.AllowedByIdentity},
	{name: "variables are literal without Version", id: []string{`{"Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}]}`}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice/db-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "${aws:PrincipalTag/team} in Resource", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}/*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:payments/api-AbCdEf", want: iam.AllowedByIdentity},
	{name: "${aws:PrincipalTag/TEAM} key case-insensitive", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/TEAM}/*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:payments/api-AbCdEf", want: iam.AllowedByIdentity},
	{name: "default used when tag missing", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team, 'shared'}/*"}`)}, p: bob(), arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:shared/api-AbCdEf", want: iam.AllowedByIdentity},
	{name: "default ignored when tag present", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team, 'shared'}/*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:shared/api-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "default with spaces and braces", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/x ,  'a}b' }/*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:a}b/api-AbCdEf", want: iam.AllowedByIdentity},
	{name: "${aws:userid} with colon", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:home/${aws:userid}/*"}`)}, p: session(), arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:home/AROAAPPROLEEXAMPLE123:sess1/x-AbCdEf", want: iam.AllowedByIdentity},
	{name: "two variables", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:${aws:PrincipalAccount}:secret:${aws:username}-*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:alice-AbCdEf", want: iam.AllowedByIdentity},
	{name: "unterminated variable is literal", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:${aws:username"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:${aws:username", want: iam.AllowedByIdentity},
	{name: "${*} is a literal star", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringLike":{"test:k":"a${*}b"}}`))}, ctx: map[string][]string{"test:k": {"a*b"}}, want: iam.AllowedByIdentity},
	{name: "${*} does not match other text", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringLike":{"test:k":"a${*}b"}}`))}, ctx: map[string][]string{"test:k": {"axb"}}, want: iam.DeniedNoIdentity},
	{name: "${?} is a literal question mark", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringLike":{"test:k":"a${?}"}}`))}, ctx: map[string][]string{"test:k": {"a?"}}, want: iam.AllowedByIdentity},
	{name: "${?} does not match one char", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringLike":{"test:k":"a${?}"}}`))}, ctx: map[string][]string{"test:k": {"ab"}}, want: iam.DeniedNoIdentity},
	{name: "${$} is a literal dollar", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"test:k":"cost${$}"}}`))}, ctx: map[string][]string{"test:k": {"cost$"}}, want: iam.AllowedByIdentity},
	{name: "${*} in Resource", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:star${*}-*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:star*-AbCdEf", want: iam.AllowedByIdentity},
	{name: "${*} in Resource is not a wildcard", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:star${*}-*"}`)}, arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:starry-AbCdEf", want: iam.DeniedNoIdentity},
	{name: "variable in StringEquals value", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`))}, ctx: map[string][]string{"aws:ResourceTag/owner": {"alice"}}, want: iam.AllowedByIdentity},
	{name: "variable in StringEquals value, other owner", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`))}, ctx: map[string][]string{"aws:ResourceTag/owner": {"bob"}}, want: iam.DeniedNoIdentity},
	{name: "unresolved variable never equals", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`))}, p: session(), ctx: map[string][]string{"aws:ResourceTag/owner": {""}}, want: iam.DeniedNoIdentity},
	{name: "unresolved variable: NotEquals holds", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringNotEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`))}, p: session(), ctx: map[string][]string{"aws:ResourceTag/owner": {"x"}}, want: iam.AllowedByIdentity},
	{name: "variable default in condition", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'none'}"}}`))}, p: bob(), ctx: map[string][]string{"aws:ResourceTag/team": {"none"}}, want: iam.AllowedByIdentity},
	{name: "variable in ArnLike value", id: []string{pol(sm("Allow", getSecret, `"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`))}, ctx: map[string][]string{"aws:SourceArn": {roleARN}}, want: iam.AllowedByIdentity},
	{name: "variable in ArnLike value, other account", id: []string{pol(sm("Allow", getSecret, `"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`))}, ctx: map[string][]string{"aws:SourceArn": {"arn:aws:iam::444455556666:role/x"}}, want: iam.DeniedNoIdentity},
	{name: "variable from a request key", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/project":"${aws:RequestTag/project}"}}`))}, ctx: map[string][]string{"aws:ResourceTag/project": {"p1"}, "aws:RequestTag/project": {"p1"}}, want: iam.AllowedByIdentity},
	{name: "multivalued key is no variable", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"test:k":"${aws:TagKeys}"}}`))}, ctx: map[string][]string{"test:k": {"a"}, "aws:TagKeys": {"a", "b"}}, want: iam.DeniedNoIdentity},
	{name: "variable literal in 2008 condition", id: []string{`{"Version":"2008-10-17","Statement":[` + sm("Allow", getSecret, `"Condition":{"StringEquals":{"test:k":"${aws:username}"}}`) + `]}`}, ctx: map[string][]string{"test:k": {"${aws:username}"}}, want: iam.AllowedByIdentity},

	// ---- Explicit deny precedence in each policy type ----
	{name: "identity deny beats identity allow", id: []string{allowAll, pol(sm("Deny", getSecret, ""))}, want: iam.DeniedExplicitIdentity},
	{name: "identity deny in same policy", id: []string{pol(sm("Allow", "*", ""), sm("Deny", "secretsmanager:Get*", ""))}, want: iam.DeniedExplicitIdentity},
	{name: "deny with failing condition is ignored", id: []string{allowAll, pol(sm("Deny", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}`))}, ctx: map[string][]string{"aws:ResourceTag/env": {"dev"}}, want: iam.AllowedByIdentity},
	{name: "deny StringNotEquals on missing key applies", id: []string{allowAll, pol(sm("Deny", getSecret, `"Condition":{"StringNotEquals":{"aws:ResourceTag/env":"dev"}}`))}, want: iam.DeniedExplicitIdentity},
	{name: "deny StringEquals on missing key does not apply", id: []string{allowAll, pol(sm("Deny", getSecret, `"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}`))}, want: iam.AllowedByIdentity},
	{name: "deny StringEqualsIfExists on missing key applies", id: []string{allowAll, pol(sm("Deny", getSecret, `"Condition":{"StringEqualsIfExists":{"aws:ResourceTag/env":"prod"}}`))}, want: iam.DeniedExplicitIdentity},
	{name: "deny other action ignored", id: []string{allowAll, pol(sm("Deny", "secretsmanager:DeleteSecret", ""))}, want: iam.AllowedByIdentity},
	{name: "MFA deny with BoolIfExists (key missing)", id: []string{allowAll, pol(`{"Effect":"Deny","NotAction":["iam:*","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)}, want: iam.DeniedExplicitIdentity},
	{name: "MFA deny with BoolIfExists (MFA present)", id: []string{allowAll, pol(`{"Effect":"Deny","NotAction":["iam:*","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)}, ctx: map[string][]string{"aws:MultiFactorAuthPresent": {"true"}}, want: iam.AllowedByIdentity},
	{name: "resource deny beats identity allow", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedExplicitResource},
	{name: "resource deny * beats resource allow", res: pol(`{"Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"secretsmanager:*","Resource":"*"}`, `{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedExplicitResource},
	{name: "resource deny to account root covers its users", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitResource},
	{name: "resource deny to account covers sessions", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:*","Resource":"*"}`), p: session(), want: iam.DeniedExplicitResource},
	{name: "resource deny to other user ignored", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.AllowedByIdentity},
	{name: "resource deny to role covers its sessions", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), p: session(), want: iam.DeniedExplicitResource},
	{name: "identity deny beats resource allow", id: []string{pol(sm("Deny", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitIdentity},
	{name: "boundary deny beats allows", id: []string{allowAll}, bnd: pol(sm("Allow", "*", ""), sm("Deny", getSecret, "")), want: iam.DeniedExplicitBoundary},
	{name: "boundary deny beats resource grant to user", bnd: pol(sm("Deny", getSecret, "")), res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitBoundary},
	{name: "session deny beats allows", id: []string{allowAll}, ses: []string{pol(sm("Allow", "*", ""), sm("Deny", getSecret, ""))}, p: session(), want: iam.DeniedExplicitSession},
	{name: "session deny beats grant to session ARN", ses: []string{pol(sm("Deny", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + sessionARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), p: session(), want: iam.DeniedExplicitSession},
	{name: "identity deny reported before resource deny", id: []string{pol(sm("Deny", getSecret, ""))}, res: pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitIdentity},
	{name: "key policy deny", id: []string{allowAll}, rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}`, `{"Effect":"Deny","Principal":{"AWS":"`+aliceARN+`"},"Action":"kms:Decrypt","Resource":"*"}`), act: "kms:Decrypt", arn: keyARN, want: iam.DeniedExplicitResource},
	{name: "trust policy deny", id: []string{allowAll}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`, `{"Effect":"Deny","Principal":{"AWS":"`+aliceARN+`"},"Action":"sts:AssumeRole"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedExplicitResource},
	{name: "GetCallerIdentity cannot be denied", id: []string{pol(sm("Deny", "*", ""))}, act: "sts:GetCallerIdentity", arn: "*", want: iam.AllowedAlways},

	// ---- Resource-based policy grants, same account ----
	{name: "resource grants user ARN", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},
	{name: "resource grant to user ignores boundary implicit deny", bnd: pol(sm("Allow", "s3:*", "")), res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},
	{name: "resource grant to user with path", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: bob(), want: iam.AllowedByResource},
	{name: "resource grant to another user", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedNoIdentity},
	{name: "resource grant action mismatch", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:DescribeSecret","Resource":"*"}`), want: iam.DeniedNoIdentity},
	{name: "resource grant by user unique ID", res: pol(`{"Effect":"Allow","Principal":{"AWS":"AIDAALICEEXAMPLE12345"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},
	{name: "resource grants role ARN to session", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.AllowedByResource},
	{name: "role grant limited by boundary", bnd: pol(sm("Allow", "s3:*", "")), res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.DeniedNoBoundary},
	{name: "role grant within boundary", bnd: pol(sm("Allow", "secretsmanager:*", "")), res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.AllowedByResource},
	{name: "role grant limited by session policy", ses: []string{pol(sm("Allow", "s3:*", ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.DeniedNoSession},
	{name: "role grant within session policy", ses: []string{pol(sm("Allow", "secretsmanager:Get*", ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.AllowedByResource},
	{name: "role grant by role unique ID", res: pol(`{"Effect":"Allow","Principal":{"AWS":"AROAAPPROLEEXAMPLE123"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.AllowedByResource},
	{name: "role ARN must include the path", res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/AppRole"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.DeniedNoIdentity},
	{name: "grant to another role", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: otherSession(), want: iam.DeniedNoIdentity},
	{name: "session ARN grant ignores boundary and session policy", bnd: pol(sm("Allow", "s3:*", "")), ses: []string{pol(sm("Allow", "s3:*", ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + sessionARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.AllowedByResource},
	{name: "session ARN grant, other session", res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/AppRole/other"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.DeniedNoIdentity},
	{name: "Principal * grants", res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},
	{name: "Principal AWS * grants a limited session", ses: []string{pol(sm("Allow", "s3:*", ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.AllowedByResource},
	{name: "Principal * with principal-tag condition", res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}}`), want: iam.AllowedByResource},
	{name: "Principal * with failing condition", res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}}`), p: bob(), want: iam.DeniedNoIdentity},
	{name: "Principal * with aws:PrincipalArn condition", res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app/*"}}}`), p: session(), want: iam.AllowedByResource},
	{name: "account root in resource policy delegates only", res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedNoIdentity},
	{name: "bare account ID delegates only", res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: session(), want: iam.DeniedNoIdentity},
	{name: "account delegation plus identity allow", id: []string{pol(sm("Allow", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByIdentity},
	{name: "account delegation, identity allow, boundary denies", id: []string{pol(sm("Allow", getSecret, ""))}, bnd: pol(sm("Allow", "s3:*", "")), res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedNoBoundary},
	{name: "resource policy silent, identity allows", id: []string{pol(sm("Allow", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByIdentity},
	{name: "resource grant with condition holding", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}}`), ctx: map[string][]string{"secretsmanager:VersionStage": {"AWSCURRENT"}}, want: iam.AllowedByResource},
	{name: "resource grant VersionStage condition, parameter omitted", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}}`), want: iam.DeniedNoIdentity},
	{name: "resource Resource element must match", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:dev/*"}`), want: iam.DeniedNoIdentity},
	{name: "service principal grant", res: pol(`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: service("lambda.amazonaws.com"), want: iam.AllowedByResource},
	{name: "service principal grant does not cover users", res: pol(`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedNoIdentity},
	{name: "service principal other service", res: pol(`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: service("ec2.amazonaws.com"), want: iam.DeniedNoIdentity},
	{name: "anonymous with Principal *", res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: nil, want: iam.AllowedByResource},
	{name: "anonymous without grant", id: []string{allowAll}, p: nil, want: iam.DeniedNoIdentity},
	{name: "principal list", res: pol(`{"Effect":"Allow","Principal":{"AWS":["` + bobARN + `","` + aliceARN + `"]},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},

	// ---- NotPrincipal ----
	{name: "Allow NotPrincipal grants others", res: pol(`{"Effect":"Allow","NotPrincipal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},
	{name: "Allow NotPrincipal excludes listed", res: pol(`{"Effect":"Allow","NotPrincipal":{"AWS":["` + bobARN + `","111122223333"]},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: bob(), want: iam.DeniedNoIdentity},
	{name: "Deny NotPrincipal exempts user listed with account", id: []string{allowAll}, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","arn:aws:iam::111122223333:root"]},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.AllowedByIdentity},
	{name: "Deny NotPrincipal denies unlisted user", id: []string{allowAll}, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","arn:aws:iam::111122223333:root"]},"Action":"secretsmanager:*","Resource":"*"}`), p: bob(), want: iam.DeniedExplicitResource},
	{name: "Deny NotPrincipal without the account denies the user", id: []string{allowAll}, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":"` + aliceARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitResource},
	{name: "Deny NotPrincipal exempts session with role, session and account", id: []string{allowAll}, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + roleARN + `","` + sessionARN + `","111122223333"]},"Action":"secretsmanager:*","Resource":"*"}`), p: session(), want: iam.AllowedByIdentity},
	{name: "Deny NotPrincipal with role and account only denies the session", id: []string{allowAll}, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + roleARN + `","111122223333"]},"Action":"secretsmanager:*","Resource":"*"}`), p: session(), want: iam.DeniedExplicitResource},
	{name: "Deny NotPrincipal always denies a principal with a boundary", id: []string{allowAll}, bnd: allowAll, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":["` + aliceARN + `","111122223333"]},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitResource},
	{name: "Deny NotPrincipal exempts root via account", res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"secretsmanager:*","Resource":"*"}`), p: root(), want: iam.AllowedRoot},
	{name: "Deny NotPrincipal * never applies", id: []string{allowAll}, res: pol(`{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.AllowedByIdentity},

	// ---- Cross-account (reference_policies_evaluation-logic-cross-account) ----
	{name: "cross-account: both sides allow", id: []string{pol(sm("Allow", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + eveARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.AllowedByIdentity},
	{name: "cross-account: resource only", res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + eveARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.DeniedNoIdentity},
	{name: "cross-account: identity only", id: []string{pol(sm("Allow", getSecret, ""))}, p: eve(), want: iam.DeniedNoResource},
	{name: "cross-account: resource trusts the account", id: []string{pol(sm("Allow", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.AllowedByIdentity},
	{name: "cross-account: resource trusts only its own account", id: []string{pol(sm("Allow", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.DeniedNoResource},
	{name: "cross-account: Principal * still needs identity", res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.DeniedNoIdentity},
	{name: "cross-account: Principal * with identity", id: []string{pol(sm("Allow", getSecret, ""))}, res: pol(`{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.AllowedByIdentity},
	{name: "cross-account: boundary still applies", id: []string{pol(sm("Allow", getSecret, ""))}, bnd: pol(sm("Allow", "s3:*", "")), res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + eveARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), p: eve(), want: iam.DeniedNoBoundary},
	{name: "cross-account: Resource * is same-account", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"}`)}, p: eve(), act: "secretsmanager:ListSecrets", arn: "*", want: iam.AllowedByIdentity},

	// ---- KMS key policies (kms key-policies.md, key-policy-default.md) ----
	{name: "default key policy delegates to IAM", id: []string{pol(`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}`)}, rk: iam.KindKeyPolicy, res: defaultKeyPolicy, act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByIdentity},
	{name: "default key policy, no IAM allow", rk: iam.KindKeyPolicy, res: defaultKeyPolicy, act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoIdentity},
	{name: "default key policy, IAM allows other action", id: []string{pol(`{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}`)}, rk: iam.KindKeyPolicy, res: defaultKeyPolicy, act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoIdentity},
	{name: "key policy without delegation ignores IAM", id: []string{allowAll}, rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"kms:*","Resource":"*"}`), act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoKeyPolicy},
	{name: "key policy grants user directly", rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}`), act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByResource},
	{name: "key policy grants role", rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"kms:Decrypt","Resource":"*"}`), p: session(), act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByResource},
	{name: "key policy role grant limited by boundary", bnd: pol(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"kms:Decrypt","Resource":"*"}`), p: session(), act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoBoundary},
	{name: "key policy delegation, session policy denies", id: []string{allowAll}, ses: []string{pol(`{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}`)}, rk: iam.KindKeyPolicy, res: defaultKeyPolicy, p: session(), act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoSession},
	{name: "key policy via-service condition holds", rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com","kms:CallerAccount":"111122223333"}}}`), act: "kms:Decrypt", arn: keyARN, ctx: map[string][]string{"kms:ViaService": {"secretsmanager.us-east-1.amazonaws.com"}, "kms:CallerAccount": {acct}}, want: iam.AllowedByResource},
	{name: "key policy via-service condition fails", id: []string{allowAll}, rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com","kms:CallerAccount":"111122223333"}}}`), act: "kms:Decrypt", arn: keyARN, ctx: map[string][]string{"kms:CallerAccount": {acct}}, want: iam.DeniedNoKeyPolicy},
	{name: "key policy encryption context condition", rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:SecretARN":"` + secretARN + `"}}}`), act: "kms:Decrypt", arn: keyARN, ctx: map[string][]string{"kms:EncryptionContext:SecretARN": {secretARN}}, want: iam.AllowedByResource},
	{name: "root needs the key policy", rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"kms:*","Resource":"*"}`), p: root(), act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoKeyPolicy},
	{name: "root allowed by default key policy", rk: iam.KindKeyPolicy, res: defaultKeyPolicy, p: root(), act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByResource},
	{name: "no key policy given: plain rules", id: []string{allowAll}, act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByIdentity},
	{name: "key policy grants foreign account, eve with IAM", id: []string{allowAll}, rk: iam.KindKeyPolicy, res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:Decrypt","Resource":"*"}`), p: eve(), act: "kms:Decrypt", arn: keyARN, want: iam.AllowedByIdentity},
	{name: "key policy silent for foreign account", id: []string{allowAll}, rk: iam.KindKeyPolicy, res: defaultKeyPolicy, p: eve(), act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoKeyPolicy},

	// ---- Role trust policies ----
	{name: "trust names the user", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"sts:AssumeRole"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.AllowedByResource},
	{name: "trust delegates to account, IAM allows", id: []string{pol(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}`)}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.AllowedByIdentity},
	{name: "trust delegates to account, IAM silent", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoIdentity},
	{name: "trust delegates, IAM allows another role", id: []string{pol(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/Other"}`)}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoIdentity},
	{name: "trust names someone else", id: []string{allowAll}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"sts:AssumeRole"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoTrustPolicy},
	{name: "trust action mismatch", id: []string{allowAll}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"sts:TagSession"}`), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoTrustPolicy},
	{name: "trust service principal", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`), p: service("ec2.amazonaws.com"), act: "sts:AssumeRole", arn: roleARN, want: iam.AllowedByResource},
	{name: "trust role chaining via role ARN", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"sts:AssumeRole"}`), p: session(), act: "sts:AssumeRole", arn: "arn:aws:iam::111122223333:role/Target", want: iam.AllowedByResource},
	{name: "trust role chaining limited by session policy", ses: []string{pol(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"sts:AssumeRole"}`), p: session(), act: "sts:AssumeRole", arn: "arn:aws:iam::111122223333:role/Target", want: iam.DeniedNoSession},
	{name: "trust with sts:ExternalId", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}`), act: "sts:AssumeRole", arn: roleARN, ctx: map[string][]string{"sts:ExternalId": {"ext-1"}}, want: iam.AllowedByResource},
	{name: "trust with sts:ExternalId missing", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + aliceARN + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}`), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoTrustPolicy},
	{name: "IRSA web identity trust", rk: iam.KindTrust, res: irsaTrust, p: webIdentity(), act: "sts:AssumeRoleWithWebIdentity", arn: roleARN, ctx: map[string][]string{"oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": {"system:serviceaccount:eso:external-secrets"}, "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud": {"sts.amazonaws.com"}}, want: iam.AllowedByResource},
	{name: "IRSA wrong service account", rk: iam.KindTrust, res: irsaTrust, p: webIdentity(), act: "sts:AssumeRoleWithWebIdentity", arn: roleARN, ctx: map[string][]string{"oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": {"system:serviceaccount:default:app"}, "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud": {"sts.amazonaws.com"}}, want: iam.DeniedNoTrustPolicy},
	{name: "IRSA other provider", rk: iam.KindTrust, res: irsaTrust, p: &iam.Principal{Type: iam.PrincipalWebIdentity, FederatedProvider: "arn:aws:iam::111122223333:oidc-provider/other"}, act: "sts:AssumeRoleWithWebIdentity", arn: roleARN, ctx: map[string][]string{"oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": {"system:serviceaccount:eso:external-secrets"}, "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud": {"sts.amazonaws.com"}}, want: iam.DeniedNoTrustPolicy},
	{name: "trust foreign account, eve with IAM", id: []string{pol(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`)}, rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}`), p: eve(), act: "sts:AssumeRole", arn: roleARN, want: iam.AllowedByIdentity},
	{name: "trust foreign account, eve without IAM", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}`), p: eve(), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoIdentity},
	{name: "trust names eve directly, eve without IAM", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + eveARN + `"},"Action":"sts:AssumeRole"}`), p: eve(), act: "sts:AssumeRole", arn: roleARN, want: iam.DeniedNoIdentity},
	{name: "trust and root", rk: iam.KindTrust, res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`), p: root(), act: "sts:AssumeRole", arn: roleARN, want: iam.AllowedByResource},

	// ---- Permissions boundaries (access_policies_boundaries) ----
	{name: "boundary allows too", id: []string{pol(sm("Allow", getSecret, ""))}, bnd: pol(sm("Allow", "secretsmanager:*", "")), want: iam.AllowedByIdentity},
	{name: "boundary does not allow", id: []string{pol(sm("Allow", getSecret, ""))}, bnd: pol(sm("Allow", "secretsmanager:Describe*", "")), want: iam.DeniedNoBoundary},
	{name: "boundary alone grants nothing", bnd: pol(sm("Allow", "*", "")), want: iam.DeniedNoIdentity},
	{name: "identity * capped by boundary", id: []string{allowAll}, bnd: pol(sm("Allow", "secretsmanager:Get*", "")), act: "secretsmanager:PutSecretValue", want: iam.DeniedNoBoundary},
	{name: "boundary with resource tag condition holds", id: []string{allowAll}, bnd: pol(sm("Allow", "secretsmanager:*", `"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`)), ctx: map[string][]string{"aws:ResourceTag/team": {"payments"}}, want: iam.AllowedByIdentity},
	{name: "boundary with resource tag condition fails", id: []string{allowAll}, bnd: pol(sm("Allow", "secretsmanager:*", `"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`)), ctx: map[string][]string{"aws:ResourceTag/team": {"web"}}, want: iam.DeniedNoBoundary},
	{name: "boundary with NotAction", id: []string{allowAll}, bnd: pol(`{"Effect":"Allow","NotAction":"secretsmanager:Delete*","Resource":"*"}`), act: "secretsmanager:DeleteSecret", want: iam.DeniedNoBoundary},
	{name: "boundary on a role session", id: []string{allowAll}, bnd: pol(sm("Allow", "secretsmanager:GetSecretValue", "")), p: session(), want: iam.AllowedByIdentity},

	// ---- Session policies (access_policies.md#policies_session) ----
	{name: "session policy allows", id: []string{allowAll}, ses: []string{pol(sm("Allow", getSecret, ""))}, p: session(), want: iam.AllowedByIdentity},
	{name: "session policy does not allow", id: []string{allowAll}, ses: []string{pol(sm("Allow", getSecret, ""))}, p: session(), act: "secretsmanager:PutSecretValue", want: iam.DeniedNoSession},
	{name: "second session policy allows", id: []string{allowAll}, ses: []string{pol(sm("Allow", "s3:*", "")), pol(sm("Allow", "secretsmanager:*", ""))}, p: session(), want: iam.AllowedByIdentity},
	{name: "session policy alone grants nothing", ses: []string{pol(sm("Allow", "*", ""))}, p: session(), want: iam.DeniedNoIdentity},
	{name: "boundary ok, session not", id: []string{allowAll}, bnd: allowAll, ses: []string{pol(sm("Allow", "s3:*", ""))}, p: session(), want: iam.DeniedNoSession},
	{name: "session ok, boundary not", id: []string{allowAll}, bnd: pol(sm("Allow", "s3:*", "")), ses: []string{allowAll}, p: session(), want: iam.DeniedNoBoundary},

	// ---- Root ----
	{name: "root without policies", p: root(), want: iam.AllowedRoot},
	{name: "root with a silent resource policy", p: root(), res: pol(`{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"secretsmanager:*","Resource":"*"}`), want: iam.AllowedRoot},
	{name: "root and an explicit resource deny", p: root(), res: pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}`), want: iam.DeniedExplicitResource},
	{name: "root and an explicit identity-layer deny", p: root(), id: []string{pol(sm("Deny", "*", ""))}, want: iam.DeniedExplicitIdentity},
	{name: "foreign root without resource policy", p: foreignRoot(), want: iam.DeniedNoResource},
	{name: "foreign root trusted by the resource policy", p: foreignRoot(), res: pol(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.AllowedByResource},
	{name: "foreign root, policy trusts another account", p: foreignRoot(), res: pol(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`), want: iam.DeniedNoResource},
	{name: "foreign root and a key policy", p: foreignRoot(), rk: iam.KindKeyPolicy, res: defaultKeyPolicy, act: "kms:Decrypt", arn: keyARN, want: iam.DeniedNoKeyPolicy},

	// ---- Secrets Manager documentation examples ----
	{name: "ABAC: team tag matches", id: []string{smABAC}, ctx: map[string][]string{"aws:ResourceTag/team": {"payments"}}, want: iam.AllowedByIdentity},
	{name: "ABAC: team tag differs", id: []string{smABAC}, ctx: map[string][]string{"aws:ResourceTag/team": {"web"}}, want: iam.DeniedNoIdentity},
	{name: "ABAC: untagged secret", id: []string{smABAC}, want: iam.DeniedNoIdentity},
	{name: "ABAC: principal without tag", id: []string{smABAC}, p: bob(), ctx: map[string][]string{"aws:ResourceTag/team": {"payments"}}, want: iam.DeniedNoIdentity},
	{name: "prod/payments with team tag", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:prod/payments/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"payments"}}}`)}, ctx: map[string][]string{"aws:ResourceTag/Team": {"payments"}}, want: iam.AllowedByIdentity},
	{name: "prod/payments with secretsmanager:ResourceTag", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:prod/payments/*","Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"payments"}}}`)}, ctx: map[string][]string{"secretsmanager:ResourceTag/team": {"payments"}}, want: iam.AllowedByIdentity},
	{name: "VersionStage AWSCURRENT", id: []string{smStage}, ctx: map[string][]string{"secretsmanager:VersionStage": {"AWSCURRENT"}}, want: iam.AllowedByIdentity},
	{name: "VersionStage AWSPREVIOUS", id: []string{smStage}, ctx: map[string][]string{"secretsmanager:VersionStage": {"AWSPREVIOUS"}}, want: iam.DeniedNoIdentity},
	{name: "VersionStage omitted by the caller", id: []string{smStage}, want: iam.DeniedNoIdentity},
	{name: "VersionStage IfExists, omitted", id: []string{pol(sm("Allow", getSecret, `"Condition":{"StringEqualsIfExists":{"secretsmanager:VersionStage":"AWSCURRENT"}}`))}, want: iam.AllowedByIdentity},
	{name: "CreateSecret name pattern", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringLike":{"secretsmanager:Name":"prod/*"}}}`)}, act: "secretsmanager:CreateSecret", ctx: map[string][]string{"secretsmanager:Name": {"prod/db"}}, want: iam.AllowedByIdentity},
	{name: "CreateSecret name pattern mismatch", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringLike":{"secretsmanager:Name":"prod/*"}}}`)}, act: "secretsmanager:CreateSecret", ctx: map[string][]string{"secretsmanager:Name": {"dev/db"}}, want: iam.DeniedNoIdentity},
	{name: "CreateSecret require tags", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"payments"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}`)}, act: "secretsmanager:CreateSecret", ctx: map[string][]string{"aws:RequestTag/team": {"payments"}, "aws:TagKeys": {"team"}}, want: iam.AllowedByIdentity},
	{name: "CreateSecret extra tag key", id: []string{pol(`{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"payments"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}`)}, act: "secretsmanager:CreateSecret", ctx: map[string][]string{"aws:RequestTag/team": {"payments"}, "aws:TagKeys": {"team", "owner"}}, want: iam.DeniedNoIdentity},
	{name: "deny force delete", id: []string{allowAll, pol(sm("Deny", "secretsmanager:DeleteSecret", `"Condition":{"Bool":{"secretsmanager:ForceDeleteWithoutRecovery":"true"}}`))}, act: "secretsmanager:DeleteSecret", ctx: map[string][]string{"secretsmanager:ForceDeleteWithoutRecovery": {"true"}}, want: iam.DeniedExplicitIdentity},
	{name: "deny force delete, recovery window", id: []string{allowAll, pol(sm("Deny", "secretsmanager:DeleteSecret", `"Condition":{"Bool":{"secretsmanager:ForceDeleteWithoutRecovery":"true"}}`))}, act: "secretsmanager:DeleteSecret", ctx: map[string][]string{"secretsmanager:RecoveryWindowInDays": {"7"}}, want: iam.AllowedByIdentity},
	{name: "deny short recovery window", id: []string{allowAll, pol(sm("Deny", "secretsmanager:DeleteSecret", `"Condition":{"NumericLessThan":{"secretsmanager:RecoveryWindowInDays":"14"}}`))}, act: "secretsmanager:DeleteSecret", ctx: map[string][]string{"secretsmanager:RecoveryWindowInDays": {"7"}}, want: iam.DeniedExplicitIdentity},
	{name: "require BlockPublicPolicy", id: []string{allowAll, pol(sm("Deny", "secretsmanager:PutResourcePolicy", `"Condition":{"Bool":{"secretsmanager:BlockPublicPolicy":"false"}}`))}, act: "secretsmanager:PutResourcePolicy", ctx: map[string][]string{"secretsmanager:BlockPublicPolicy": {"false"}}, want: iam.DeniedExplicitIdentity},
	{name: "require BlockPublicPolicy, set", id: []string{allowAll, pol(sm("Deny", "secretsmanager:PutResourcePolicy", `"Condition":{"Bool":{"secretsmanager:BlockPublicPolicy":"false"}}`))}, act: "secretsmanager:PutResourcePolicy", ctx: map[string][]string{"secretsmanager:BlockPublicPolicy": {"true"}}, want: iam.AllowedByIdentity},
	{name: "deny without TLS", id: []string{allowAll, pol(sm("Deny", "secretsmanager:*", `"Condition":{"Bool":{"aws:SecureTransport":"false"}}`))}, ctx: map[string][]string{"aws:SecureTransport": {"false"}}, want: iam.DeniedExplicitIdentity},
	{name: "deny outside network", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}`), ctx: map[string][]string{"aws:SourceIp": {"198.51.100.9"}}, want: iam.DeniedExplicitResource},
	{name: "inside network", id: []string{allowAll}, res: pol(`{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}`), ctx: map[string][]string{"aws:SourceIp": {"2001:db8:5::1"}}, want: iam.AllowedByIdentity},
	{name: "SecretId ArnLike", id: []string{pol(sm("Allow", getSecret, `"Condition":{"ArnLike":{"secretsmanager:SecretId":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*"}}`))}, ctx: map[string][]string{"secretsmanager:SecretId": {secretARN}}, want: iam.AllowedByIdentity},
	{name: "SecretId given as a name fails ArnLike", id: []string{pol(sm("Allow", getSecret, `"Condition":{"ArnLike":{"secretsmanager:SecretId":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*"}}`))}, ctx: map[string][]string{"secretsmanager:SecretId": {"prod/payments/db"}}, want: iam.DeniedNoIdentity},
	{name: "ESO read policy", id: []string{esoRead}, act: "secretsmanager:ListSecretVersionIds", want: iam.AllowedByIdentity},
	{name: "ESO read policy does not write", id: []string{esoRead}, act: "secretsmanager:PutSecretValue", want: iam.DeniedNoIdentity},
	{name: "rotation lambda ARN condition", id: []string{pol(sm("Allow", "secretsmanager:RotateSecret", `"Condition":{"ArnLike":{"secretsmanager:RotationLambdaARN":"arn:aws:lambda:*:111122223333:function:rotate-*"}}`))}, act: "secretsmanager:RotateSecret", ctx: map[string][]string{"secretsmanager:RotationLambdaARN": {"arn:aws:lambda:us-east-1:111122223333:function:rotate-db"}}, want: iam.AllowedByIdentity},
	{name: "deny replication outside EU", id: []string{allowAll, pol(sm("Deny", "secretsmanager:ReplicateSecretToRegions", `"Condition":{"ForAnyValue:StringNotLike":{"secretsmanager:AddReplicaRegions":"eu-*"}}`))}, act: "secretsmanager:ReplicateSecretToRegions", ctx: map[string][]string{"secretsmanager:AddReplicaRegions": {"eu-west-1", "us-east-1"}}, want: iam.DeniedExplicitIdentity},
	{name: "replication inside EU", id: []string{allowAll, pol(sm("Deny", "secretsmanager:ReplicateSecretToRegions", `"Condition":{"ForAnyValue:StringNotLike":{"secretsmanager:AddReplicaRegions":"eu-*"}}`))}, act: "secretsmanager:ReplicateSecretToRegions", ctx: map[string][]string{"secretsmanager:AddReplicaRegions": {"eu-west-1", "eu-central-1"}}, want: iam.AllowedByIdentity},
}

var defaultKeyPolicy = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`

var irsaTrust = pol(`{"Effect":"Allow","Principal":{"Federated":"` + oidcARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub":"system:serviceaccount:eso:external-secrets","oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud":"sts.amazonaws.com"}}}`)

var smABAC = pol(`{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:*:secret:*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}`)

var smStage = pol(sm("Allow", getSecret, `"Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}`))

var esoRead = pol(`{"Effect":"Allow","Action":["secretsmanager:GetResourcePolicy","secretsmanager:GetSecretValue","secretsmanager:DescribeSecret","secretsmanager:ListSecretVersionIds"],"Resource":["arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*"]}`)

func (c condCase) evalCase() evalCase {
	ec := evalCase{
		name: fmt.Sprintf("%s %s=%s ctx=%q", c.op, c.key, c.val, c.ctx),
		id:   []string{pol(sm("Allow", getSecret, `"Condition":{"`+c.op+`":{"`+c.key+`":`+c.val+`}}`))},
		want: iam.DeniedNoIdentity,
	}
	if c.want {
		ec.want = iam.AllowedByIdentity
	}
	if c.ctx != nil {
		ec.ctx = map[string][]string{condCtxKey(c.key): c.ctx}
	}
	return ec
}

// minCases is the floor the brief sets for the evaluation table.
const minCases = 300

func allCases() []evalCase {
	out := append([]evalCase(nil), evalCases...)
	for _, c := range condCases {
		out = append(out, c.evalCase())
	}
	return out
}

func TestEvaluateCases(t *testing.T) {
	cases := allCases()
	if len(cases) < minCases {
		t.Fatalf("only %d evaluation cases, want at least %d", len(cases), minCases)
	}
	t.Logf("%d evaluation cases (%d scenario, %d condition-operator)", len(cases), len(evalCases), len(condCases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := runCase(t, c)
			wantAllowed := c.want <= iam.AllowedAlways
			if d.Allowed != wantAllowed || d.Reason != c.want {
				t.Fatalf("got allowed=%v reason=%q, want allowed=%v reason=%q\n%s", d.Allowed, d.Reason, wantAllowed, c.want, d.Message())
			}
			msg := d.Message()
			if d.Allowed != (msg == "") {
				t.Fatalf("Message() = %q for allowed=%v", msg, d.Allowed)
			}
			if !d.Allowed && !strings.HasPrefix(msg, "User: ") {
				t.Fatalf("message %q", msg)
			}
			if c.want.Explicit() {
				refs := d.Statements()
				if len(refs) != 1 || refs[0].Effect != iam.Deny {
					t.Fatalf("explicit deny should name one Deny statement, got %+v", refs)
				}
			}
		})
	}
}

func runCase(t testing.TB, c evalCase) iam.Decision {
	t.Helper()
	set := &iam.Set{}
	for i, doc := range c.id {
		set.Identity = append(set.Identity, iam.Labeled{Label: fmt.Sprintf("arn:aws:iam::111122223333:policy/id%d", i), Policy: mustParse(t, doc, iam.KindIdentity)})
	}
	if c.res != "" {
		k := c.rk
		if k == 0 {
			k = iam.KindResource
		}
		set.Resource = iam.Labeled{Label: "resource", Policy: mustParse(t, c.res, k)}
	}
	if c.bnd != "" {
		set.Boundary = iam.Labeled{Label: "arn:aws:iam::111122223333:policy/boundary", Policy: mustParse(t, c.bnd, iam.KindBoundary)}
	}
	for i, doc := range c.ses {
		set.Session = append(set.Session, iam.Labeled{Label: fmt.Sprintf("session%d", i), Policy: mustParse(t, doc, iam.KindSession)})
	}
	p := c.p
	if p == nil && !isAnonymous(c) {
		p = alice()
	}
	req := &iam.Request{Principal: p, Action: c.act, Resource: c.arn, Time: c.now}
	if req.Action == "" {
		req.Action = getSecret
	}
	if req.Resource == "" {
		req.Resource = secretARN
	}
	if c.ctx != nil {
		var v iam.Values
		for k, vals := range c.ctx {
			if len(vals) == 1 {
				v.Set(k, vals[0])
			} else {
				v.SetList(k, vals)
			}
		}
		req.Context = &v
	}
	return iam.Evaluate(req, set)
}

func isAnonymous(c evalCase) bool { return strings.HasPrefix(c.name, "anonymous") }
