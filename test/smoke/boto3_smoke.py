#!/usr/bin/env python3
"""Smoke test of a running Coffer server with boto3.

    COFFER_URL=http://127.0.0.1:8484 AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
        python3 test/smoke/boto3_smoke.py

Optional: AWS_REGION (default us-east-1), SMOKE_PREFIX. Creates, reads,
updates, lists, tags, untags, deletes, restores and force-deletes secrets and
checks AWS's error codes and messages, failing loudly (exit 1, with what
differed) on any mismatch.
"""

import base64
import os
import sys
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ["COFFER_URL"]
REGION = os.environ.get("AWS_REGION", "us-east-1")
P = os.environ.get("SMOKE_PREFIX", "smoke-boto3-%d" % os.getpid())

sm = boto3.session.Session(
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    region_name=REGION,
).client("secretsmanager", endpoint_url=URL, config=Config(retries={"max_attempts": 1}))


def fail(msg):
    print("boto3_smoke.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect(what, want, got):
    if want != got:
        fail("%s: want %r, got %r" % (what, want, got))
    print("ok: " + what)


def expect_error(what, code, message, fn, **kw):
    try:
        out = fn(**kw)
    except ClientError as e:
        err = e.response["Error"]
        if err["Code"] != code or (message is not None and err["Message"] != message):
            fail("%s: want %s %r, got %s %r" % (what, code, message, err["Code"], err["Message"]))
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 400:
            fail("%s: HTTP %d" % (what, e.response["ResponseMetadata"]["HTTPStatusCode"]))
        print("ok: %s (%s)" % (what, code))
        return
    fail("%s: succeeded, want %s: %r" % (what, code, out))


NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED = "You can't perform this operation on the secret because it was marked for deletion."

print("boto3 %s against %s" % (boto3.__version__, URL))

# create, read
t1 = str(uuid.uuid4())
c = sm.create_secret(Name=P + "/db", Description="smoke", SecretString='{"password":"boto3-smoke-1"}',
                     Tags=[{"Key": "team", "Value": "blue"}], ClientRequestToken=t1)
arn = c["ARN"]
if not arn.startswith("arn:aws:secretsmanager:%s:" % REGION) or not arn[:-6].endswith(":secret:%s/db-" % P):
    fail("ARN %s" % arn)
expect("create_secret VersionId", t1, c["VersionId"])
again = sm.create_secret(Name=P + "/db", Description="smoke", SecretString='{"password":"boto3-smoke-1"}',
                         Tags=[{"Key": "team", "Value": "blue"}], ClientRequestToken=t1)
expect("create_secret retried with the same token", (arn, t1), (again["ARN"], again["VersionId"]))
expect_error("create_secret, token reused with another value", "ResourceExistsException",
             "You can't use ClientRequestToken %s because that value is already in use for a version of secret %s." % (t1, arn),
             sm.create_secret, Name=P + "/db", SecretString="other", ClientRequestToken=t1)
expect_error("create_secret on an existing name", "ResourceExistsException",
             "The operation failed because the secret %s/db already exists." % P,
             sm.create_secret, Name=P + "/db", SecretString="x")
expect_error("invalid name", "ValidationException",
             "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
             sm.create_secret, Name="Inv Name", SecretString="x")

for sid in (P + "/db", arn, arn[:-7]):
    g = sm.get_secret_value(SecretId=sid)
    expect("get_secret_value by %s" % sid, ('{"password":"boto3-smoke-1"}', ["AWSCURRENT"], t1, arn),
           (g["SecretString"], g["VersionStages"], g["VersionId"], g["ARN"]))
    if "SecretBinary" in g:
        fail("string secret has SecretBinary")

raw = bytes(range(256))
sm.create_secret(Name=P + "/bin", SecretBinary=raw)
g = sm.get_secret_value(SecretId=P + "/bin")
expect("binary round trip", raw, g["SecretBinary"])
sm.create_secret(Name=P + "/empty")
expect_error("get_secret_value of a secret without value", "ResourceNotFoundException",
             "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
             sm.get_secret_value, SecretId=P + "/empty")
expect_error("get_secret_value of a missing secret", "ResourceNotFoundException", NOT_FOUND,
             sm.get_secret_value, SecretId=P + "/missing")
expect_error("get_secret_value with a stage not on the version", "InvalidRequestException",
             "You provided a VersionStage that is not associated to the provided VersionId.",
             sm.get_secret_value, SecretId=P + "/db", VersionId=t1, VersionStage="AWSPREVIOUS")

# update: put_secret_value, update_secret, update_secret_version_stage
p2 = sm.put_secret_value(SecretId=P + "/db", SecretString="boto3-smoke-2")
expect("put_secret_value stages", ["AWSCURRENT"], p2["VersionStages"])
p3 = sm.put_secret_value(SecretId=P + "/db", SecretBinary=b"pending", VersionStages=["AWSPENDING"])
expect("put_secret_value with AWSPENDING", ["AWSPENDING"], p3["VersionStages"])
expect("AWSCURRENT unchanged", "boto3-smoke-2", sm.get_secret_value(SecretId=P + "/db")["SecretString"])
expect_error("move AWSCURRENT without RemoveFromVersionId", "InvalidParameterException",
             "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version %s, "
             "so you must explicitly reference that version in RemoveFromVersionId." % p2["VersionId"],
             sm.update_secret_version_stage, SecretId=P + "/db", VersionStage="AWSCURRENT", MoveToVersionId=p3["VersionId"])
sm.update_secret_version_stage(SecretId=P + "/db", VersionStage="AWSCURRENT", MoveToVersionId=p3["VersionId"],
                               RemoveFromVersionId=p2["VersionId"])
d = sm.describe_secret(SecretId=P + "/db")
expect("labels after the move", {t1: None, p2["VersionId"]: ["AWSPREVIOUS"], p3["VersionId"]: ["AWSCURRENT", "AWSPENDING"]},
       {k: sorted(d["VersionIdsToStages"][k]) if k in d["VersionIdsToStages"] else None for k in (t1, p2["VersionId"], p3["VersionId"])})
u = sm.update_secret(SecretId=P + "/db", Description="described")
expect("update_secret description only: no VersionId", False, "VersionId" in u)
u = sm.update_secret(SecretId=P + "/db", SecretString="boto3-smoke-4")
expect("update_secret value", ("boto3-smoke-4", u["VersionId"]),
       tuple(sm.get_secret_value(SecretId=P + "/db")[k] for k in ("SecretString", "VersionId")))
versions = sm.list_secret_version_ids(SecretId=P + "/db", IncludeDeprecated=True)["Versions"]
expect("list_secret_version_ids", 4, len(versions))
for v in versions:
    if v["VersionId"] == t1 and "VersionStages" in v:
        fail("deprecated version listed with stages %r" % v["VersionStages"])
    if v.get("KmsKeyIds") != ["DefaultEncryptionKey"]:
        fail("KmsKeyIds %r" % v.get("KmsKeyIds"))

# list (with the paginator)
names = [s["Name"] for page in sm.get_paginator("list_secrets").paginate(
    Filters=[{"Key": "name", "Values": [P + "/"]}], PaginationConfig={"PageSize": 1}) for s in page["SecretList"]]
expect("list_secrets", [P + "/db", P + "/bin", P + "/empty"], names)
names = [s["Name"] for s in sm.list_secrets(Filters=[{"Key": "name", "Values": [P + "/"]}, {"Key": "tag-key", "Values": ["team"]}])["SecretList"]]
expect("list_secrets by tag", [P + "/db"], names)
b = sm.batch_get_secret_value(SecretIdList=[P + "/db", P + "/bin", P + "/missing"])
expect("batch_get_secret_value", ({P + "/db", P + "/bin"}, [(P + "/missing", "ResourceNotFoundException")]),
       ({v["Name"] for v in b["SecretValues"]}, [(e["SecretId"], e["ErrorCode"]) for e in b["Errors"]]))

# tag, untag
sm.tag_resource(SecretId=P + "/db", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "red"}])
expect("tag_resource", [{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "prod"}], sm.describe_secret(SecretId=P + "/db")["Tags"])
sm.untag_resource(SecretId=P + "/db", TagKeys=["team", "env", "missing"])
expect("untag_resource leaves an empty list", [], sm.describe_secret(SecretId=P + "/db")["Tags"])
expect("never tagged: no Tags", False, "Tags" in sm.describe_secret(SecretId=P + "/bin"))

# delete, restore, force-delete
expect_error("recovery window out of range", "InvalidParameterException", None,
             sm.delete_secret, SecretId=P + "/db", RecoveryWindowInDays=31)
dl = sm.delete_secret(SecretId=P + "/db", RecoveryWindowInDays=7)
expect("delete_secret", arn, dl["ARN"])
expect("describe_secret shows DeletedDate", True, "DeletedDate" in sm.describe_secret(SecretId=P + "/db"))
for fn, kw in ((sm.get_secret_value, {}), (sm.put_secret_value, {"SecretString": "x"}),
               (sm.update_secret, {"Description": "x"}), (sm.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]})):
    expect_error("%s while scheduled for deletion" % fn.__name__, "InvalidRequestException", MARKED, fn, SecretId=P + "/db", **kw)
expect_error("create_secret with a name scheduled for deletion", "InvalidRequestException",
             "You can't create this secret because a secret with this name is already scheduled for deletion.",
             sm.create_secret, Name=P + "/db", SecretString="x")
listed = {s["Name"] for s in sm.list_secrets(Filters=[{"Key": "name", "Values": [P + "/"]}])["SecretList"]}
planned = {s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [P + "/"]}])["SecretList"]}
expect("list_secrets hides it unless IncludePlannedDeletion", (False, True), (P + "/db" in listed, P + "/db" in planned))
expect("restore_secret", arn, sm.restore_secret(SecretId=P + "/db")["ARN"])
expect("value after restore", "boto3-smoke-4", sm.get_secret_value(SecretId=P + "/db")["SecretString"])
for name in (P + "/db", P + "/bin", P + "/empty"):
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    expect_error("force-deleted %s is gone" % name, "ResourceNotFoundException", NOT_FOUND, sm.describe_secret, SecretId=name)
m = sm.delete_secret(SecretId=P + "/never", ForceDeleteWithoutRecovery=True)
expect("force delete of a missing secret answers as if it existed", P + "/never", m["Name"])
r = sm.create_secret(Name=P + "/db", SecretString="again")
if r["ARN"] == arn:
    fail("re-created secret reuses the ARN")
print("ok: name reusable at once, with a new ARN")
sm.delete_secret(SecretId=P + "/db", ForceDeleteWithoutRecovery=True)

pw = sm.get_random_password(PasswordLength=64, ExcludeCharacters="abc")["RandomPassword"]
if len(pw) != 64 or set("abc") & set(pw):
    fail("get_random_password %d characters" % len(pw))
print("ok: get_random_password")

print("boto3_smoke.py: PASS")
