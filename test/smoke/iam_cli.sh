#!/usr/bin/env bash
# Smoke test of IAM and STS with the AWS CLI v2 (/usr/bin/aws) against a
# fresh Coffer: users, access keys, a managed policy, least privilege, a
# role assumed with AssumeRole, and `coffer iam explain`.
#
# Usage: test/smoke/iam_cli.sh            (builds ./cmd/coffer)
#        COFFER=/path/to/coffer test/smoke/iam_cli.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

AWS=/usr/bin/aws
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
COFFER=${COFFER:-$work/coffer}
[ -x "$COFFER" ] || go build -o "$COFFER" ./cmd/coffer

"$COFFER" server --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do grep -q 'Coffer listening' "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^Coffer listening on \([^ ]*\).*/\1/p' "$work/out")
[ -n "$url" ] || { cat "$work/log"; echo "server did not start" >&2; exit 1; }

export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE="$work/data/credentials" AWS_REGION=us-east-1 AWS_PAGER= AWS_EC2_METADATA_DISABLED=true
aws() { "$AWS" --endpoint-url "$url" --output json "$@"; }
as() { # as KEY SECRET [TOKEN] -- aws args…
	local id=$1 secret=$2 token=$3; shift 3
	AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token aws "$@"
}
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_denied() { # expect_denied CODE cmd…
	local code=$1; shift
	if out=$("$@" 2>&1); then fail "allowed: $*"; fi
	grep -q "$code" <<<"$out" || fail "want $code from $*: $out"
}

acct=$(aws sts get-caller-identity --query Account --output text)
echo "account $acct at $url"

aws secretsmanager create-secret --name app/config --secret-string s1 >/dev/null
aws secretsmanager create-secret --name app/other --secret-string s2 >/dev/null

aws iam create-user --user-name reader --tags Key=team,Value=app >/dev/null
read -r rid rsecret < <(aws iam create-access-key --user-name reader --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)

# No policy: denied.
expect_denied AccessDeniedException as "$rid" "$rsecret" "" secretsmanager get-secret-value --secret-id app/config

policy=$(printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:%s:secret:app/config-??????"}]}' "$acct")
parn=$(aws iam create-policy --policy-name read-config --policy-document "$policy" --query Policy.Arn --output text)
aws iam attach-user-policy --user-name reader --policy-arn "$parn"
aws iam list-attached-user-policies --user-name reader --query 'AttachedPolicies[0].PolicyName' --output text | grep -qx read-config || fail "attachment"
aws iam get-policy-version --policy-arn "$parn" --version-id v1 --query 'PolicyVersion.Document.Statement[0].Effect' --output text | grep -qx Allow || fail "policy document"

# Exactly what the policy allows.
[ "$(as "$rid" "$rsecret" "" secretsmanager get-secret-value --secret-id app/config --query SecretString --output text)" = s1 ] || fail "reader read"
expect_denied AccessDeniedException as "$rid" "$rsecret" "" secretsmanager get-secret-value --secret-id app/other
expect_denied AccessDeniedException as "$rid" "$rsecret" "" secretsmanager put-secret-value --secret-id app/config --secret-string x
expect_denied AccessDenied as "$rid" "$rsecret" "" iam list-users

# A role the reader may assume; the session narrows to one secret.
trust=$(printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/reader"},"Action":"sts:AssumeRole"}]}' "$acct")
aws iam create-role --role-name app-role --assume-role-policy-document "$trust" >/dev/null
aws iam put-role-policy --role-name app-role --policy-name read-app --policy-document "$(printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:%s:secret:app/*"}]}' "$acct")"
read -r sid ssecret stoken < <(as "$rid" "$rsecret" "" sts assume-role --role-arn "arn:aws:iam::$acct:role/app-role" --role-session-name smoke --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
as "$sid" "$ssecret" "$stoken" sts get-caller-identity --query Arn --output text | grep -qx "arn:aws:sts::$acct:assumed-role/app-role/smoke" || fail "session identity"
[ "$(as "$sid" "$ssecret" "$stoken" secretsmanager get-secret-value --secret-id app/other --query SecretString --output text)" = s2 ] || fail "session read"
expect_denied AccessDeniedException as "$sid" "$ssecret" "$stoken" secretsmanager delete-secret --secret-id app/other
expect_denied InvalidClientTokenId as "$sid" "$ssecret" "not-the-token" sts get-caller-identity

# Explain offline (the data directory must be free).
kill "$pid"; wait "$pid" 2>/dev/null || true
"$COFFER" iam explain --data-dir "$work/data" --principal "arn:aws:iam::$acct:user/reader" \
	--action secretsmanager:PutSecretValue --resource "arn:aws:secretsmanager:us-east-1:$acct:secret:app/config-abcdef" | tee "$work/explain"
grep -q 'Decision:  DENIED' "$work/explain" || fail "explain"
echo "iam_cli.sh: OK"
