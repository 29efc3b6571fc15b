#!/usr/bin/env bash
# Smoke test of a running Coffer server with the AWS CLI v2.
#
#   COFFER_URL=http://127.0.0.1:8484 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… test/smoke/cli.sh
#
# Optional: AWS_CLI (default /usr/bin/aws, Debian's awscli v2), AWS_REGION
# (default us-east-1), SMOKE_PREFIX (default smoke-cli-<pid>). Creates,
# reads, updates, lists, tags, untags, deletes, restores and force-deletes
# secrets, failing loudly (exit 1, with what differed) on any mismatch.
set -euo pipefail

: "${COFFER_URL:?set COFFER_URL to the server URL}"
: "${AWS_ACCESS_KEY_ID:?set AWS_ACCESS_KEY_ID}"
: "${AWS_SECRET_ACCESS_KEY:?set AWS_SECRET_ACCESS_KEY}"
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_DEFAULT_REGION=${AWS_REGION:-us-east-1}
# Nothing from the user's own AWS set-up may leak in.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SECRETS_MANAGER || true
P=${SMOKE_PREFIX:-smoke-cli-$$}

case "$("$AWS_CLI" --version 2>&1)" in
aws-cli/2.*) ;;
*) echo "cli.sh: $AWS_CLI is not the AWS CLI v2: $("$AWS_CLI" --version 2>&1)" >&2; exit 1 ;;
esac

sm() { "$AWS_CLI" --endpoint-url "$COFFER_URL" --output text secretsmanager "$@"; }

fail() { echo "cli.sh: FAIL: $*" >&2; exit 1; }

# expect DESCRIPTION WANT GOT
expect() {
	if [ "$2" != "$3" ]; then
		fail "$1: want [$2], got [$3]"
	fi
	echo "ok: $1"
}

# expect_error DESCRIPTION CODE COMMAND...: the command must fail with CODE.
expect_error() {
	local what=$1 code=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		fail "$what: succeeded, want $code: $out"
	fi
	case "$out" in
	*"($code)"*) echo "ok: $what ($code)" ;;
	*) fail "$what: want $code, got: $out" ;;
	esac
}

# Every CLI call costs over a second of Python start-up, so there are few
# calls and each checks as much as it can (boto3_smoke.py goes wider).

# create, read
arn=$(sm create-secret --name "$P/db" --description "smoke secret" \
	--secret-string '{"user":"admin","password":"cli-smoke-1"}' \
	--tags Key=team,Value=blue --query ARN)
case "$arn" in
arn:aws:secretsmanager:"$AWS_REGION":[0-9]*:secret:"$P/db"-??????) echo "ok: create-secret ($arn)" ;;
*) fail "create-secret ARN: $arn" ;;
esac
expect "get-secret-value by partial ARN" '{"user":"admin","password":"cli-smoke-1"}	AWSCURRENT	'"$arn" \
	"$(sm get-secret-value --secret-id "${arn%-??????}" --query '[SecretString, VersionStages[0], ARN]')"

# update (a new value and a description)
v2=$(sm update-secret --secret-id "$P/db" --secret-string "cli-smoke-2" --description "updated" --query VersionId)
[ -n "$v2" ] && [ "$v2" != "None" ] || fail "update-secret with a value returned VersionId [$v2]"
expect "get-secret-value after update-secret" "cli-smoke-2	$v2	AWSCURRENT" \
	"$(sm get-secret-value --secret-id "$arn" --query '[SecretString, VersionId, VersionStages[0]]')"

# list
expect "list-secrets" "$P/db" "$(sm list-secrets --filters Key=name,Values="$P/" --query 'SecretList[].Name')"

# tag, untag
sm tag-resource --secret-id "$P/db" --tags Key=env,Value=prod Key=tier,Value=1 >/dev/null
sm untag-resource --secret-id "$P/db" --tag-keys team tier >/dev/null
expect "describe-secret after tag-resource and untag-resource" "updated,null,env=prod" \
	"$(sm describe-secret --secret-id "$P/db" --query 'join(`,`, [Description, to_string(DeletedDate), join(`;`, Tags[].join(`=`, [Key, Value]))])')"

# delete, restore, force-delete
sm delete-secret --secret-id "$P/db" --recovery-window-in-days 7 --query DeletionDate >/dev/null
expect_error "get-secret-value while scheduled for deletion" InvalidRequestException \
	sm get-secret-value --secret-id "$P/db"
expect "restore-secret" "$arn" "$(sm restore-secret --secret-id "$P/db" --query ARN)"
expect "force delete" "$arn" "$(sm delete-secret --secret-id "$P/db" --force-delete-without-recovery --query ARN)"
expect_error "force-deleted secret is gone" ResourceNotFoundException \
	sm get-secret-value --secret-id "$P/db"

echo "cli.sh: PASS"
