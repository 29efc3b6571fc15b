#!/usr/bin/env bash
# Smoke test of Coffer's KMS API with the AWS CLI v2 (Debian's awscli).
#
#   COFFER_URL=http://127.0.0.1:8484 AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… test/smoke/kms_cli.sh
#
# Run by test/integration TestKMSCLISmoke against a fresh server. Prints one
# line per step; exits non-zero at the first failure. RotateKeyOnDemand and
# ListKeyRotations are newer than the CLI in Debian 12 and are covered by
# the SDK tests instead.
set -euo pipefail

: "${COFFER_URL:?set COFFER_URL}"
AWS_CLI="${AWS_CLI:-/usr/bin/aws}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_PAGER="" AWS_CONFIG_FILE=/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

kms() { "$AWS_CLI" --endpoint-url "$COFFER_URL" kms "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "ok   $*"; }
# expect_error CODE MESSAGE-FRAGMENT cmd…: the command must fail with CODE.
expect_error() {
	local code="$1" msg="$2"
	shift 2
	if "$@" >"$work/out" 2>"$work/err"; then fail "$* succeeded, want $code"; fi
	grep -q "($code)" "$work/err" || fail "$*: $(cat "$work/err"), want $code"
	grep -qF -- "$msg" "$work/err" || fail "$*: $(cat "$work/err"), want message with: $msg"
}

key=$(kms create-key --description "cli smoke" --tags TagKey=env,TagValue=smoke --query KeyMetadata.KeyId --output text)
arn=$(kms describe-key --key-id "$key" --query KeyMetadata.Arn --output text)
[ "$(kms describe-key --key-id "$arn" --query KeyMetadata.KeyState --output text)" = Enabled ] || fail "new key not Enabled"
step "create-key / describe-key ($key)"

[ "$(kms list-keys --query "Keys[?KeyId=='$key'].KeyArn" --output text)" = "$arn" ] || fail "list-keys"
step "list-keys"

kms create-alias --alias-name alias/cli-smoke --target-key-id "$key"
[ "$(kms list-aliases --key-id "$key" --query 'Aliases[0].AliasName' --output text)" = alias/cli-smoke ] || fail "list-aliases"
[ "$(kms list-aliases --query "Aliases[?AliasName=='alias/aws/secretsmanager'].AliasName" --output text)" = alias/aws/secretsmanager ] || fail "predefined alias not listed"
step "create-alias / list-aliases"

printf 'hello from the cli' >"$work/plain"
kms encrypt --key-id alias/cli-smoke --plaintext "fileb://$work/plain" --encryption-context purpose=smoke \
	--query CiphertextBlob --output text | base64 -d >"$work/blob"
kms decrypt --ciphertext-blob "fileb://$work/blob" --encryption-context purpose=smoke \
	--query Plaintext --output text | base64 -d >"$work/back"
cmp -s "$work/plain" "$work/back" || fail "decrypt returned other bytes"
expect_error InvalidCiphertextException "" kms decrypt --ciphertext-blob "fileb://$work/blob" --encryption-context purpose=other
step "encrypt / decrypt (encryption context enforced)"

key2=$(kms create-key --query KeyMetadata.KeyId --output text)
kms re-encrypt --ciphertext-blob "fileb://$work/blob" --source-encryption-context purpose=smoke \
	--destination-key-id "$key2" --query CiphertextBlob --output text | base64 -d >"$work/blob2"
[ "$(kms decrypt --ciphertext-blob "fileb://$work/blob2" --query KeyId --output text)" = "$(kms describe-key --key-id "$key2" --query KeyMetadata.Arn --output text)" ] || fail "re-encrypt"
step "re-encrypt across keys"

[ "$(kms generate-data-key --key-id "$key" --key-spec AES_256 --query Plaintext --output text | base64 -d | wc -c)" -eq 32 ] || fail "generate-data-key"
kms generate-data-key-without-plaintext --key-id "$key" --number-of-bytes 16 --query CiphertextBlob --output text >/dev/null
[ "$(kms generate-random --number-of-bytes 24 --query Plaintext --output text | base64 -d | wc -c)" -eq 24 ] || fail "generate-random"
step "generate-data-key / -without-plaintext / generate-random"

kms enable-key-rotation --key-id "$key"
[ "$(kms get-key-rotation-status --key-id "$key" --query KeyRotationEnabled --output text)" = True ] || fail "rotation not enabled"
kms disable-key-rotation --key-id "$key"
step "enable/disable-key-rotation / get-key-rotation-status"

kms tag-resource --key-id "$key" --tags TagKey=owner,TagValue=cli
kms untag-resource --key-id "$key" --tag-keys env
[ "$(kms list-resource-tags --key-id "$key" --query 'Tags[*].TagKey' --output text)" = owner ] || fail "tags"
kms update-key-description --key-id "$key" --description "still smoke"
step "tag-resource / untag-resource / list-resource-tags / update-key-description"

policy=$(kms get-key-policy --key-id "$key" --policy-name default --query Policy --output text)
case "$policy" in *'"kms:*"'*) ;; *) fail "default policy: $policy" ;; esac
kms put-key-policy --key-id "$key" --policy-name default --policy '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}'
[ "$(kms list-key-policies --key-id "$key" --query 'PolicyNames[0]' --output text)" = default ] || fail "list-key-policies"
step "get/put-key-policy / list-key-policies"

kms disable-key --key-id "$key"
expect_error DisabledException "$arn is disabled." kms encrypt --key-id "$key" --plaintext "fileb://$work/plain"
kms enable-key --key-id "$key"
step "disable-key (DisabledException) / enable-key"

[ "$(kms schedule-key-deletion --key-id "$key" --pending-window-in-days 7 --query KeyState --output text)" = PendingDeletion ] || fail "schedule-key-deletion"
expect_error KMSInvalidStateException "$arn is pending deletion." kms decrypt --ciphertext-blob "fileb://$work/blob" --encryption-context purpose=smoke
[ "$(kms cancel-key-deletion --key-id "$key" --query KeyId --output text)" = "$arn" ] || fail "cancel-key-deletion"
[ "$(kms describe-key --key-id "$key" --query KeyMetadata.KeyState --output text)" = Disabled ] || fail "not Disabled after cancel"
step "schedule-key-deletion (KMSInvalidStateException) / cancel-key-deletion"

kms update-alias --alias-name alias/cli-smoke --target-key-id "$key2"
kms delete-alias --alias-name alias/cli-smoke
expect_error NotFoundException "is not found." kms describe-key --key-id alias/cli-smoke
expect_error NotFoundException "Invalid keyId 'fake-key-id'" kms describe-key --key-id fake-key-id
step "update-alias / delete-alias / NotFoundException"

sm_key=$(kms describe-key --key-id alias/aws/secretsmanager --query KeyMetadata.KeyId --output text)
expect_error AccessDeniedException "is not authorized to perform: kms:DisableKey" kms disable-key --key-id "$sm_key"
step "aws/secretsmanager is AWS managed"

echo "kms cli smoke: all steps passed"
