-- The audit trail (see internal/audit and internal/sqlite/audit.go).
--
-- One row per recorded request, in commit order: the hash-chained record.
-- body is the event JSON byte for byte as it was hashed (never re-encoded,
-- never parsed into another form). Nothing else is stored per record, so
-- that appending stays cheap and no lookup column can disagree with the
-- hashed body: lookups read the body (see the audit_events view).
CREATE TABLE IF NOT EXISTS audit_records (
	seq  INTEGER PRIMARY KEY,
	prev BLOB NOT NULL,
	hash BLOB NOT NULL,
	body BLOB NOT NULL
);

-- The chain state (audit.ChainState, binary form) after the last record,
-- written in the same transaction as the records it covers.
CREATE TABLE IF NOT EXISTS audit_state (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	state BLOB NOT NULL
);

-- Signed checkpoints (C2SP signed notes) of the tree of the first size records.
CREATE TABLE IF NOT EXISTS audit_checkpoints (
	size       INTEGER PRIMARY KEY,
	root       BLOB NOT NULL,
	note       BLOB NOT NULL,
	created_ms INTEGER NOT NULL
);

-- The events with the fields CloudTrail's LookupEvents filters on, for
-- LookupAudit and for operators (sqlite3 coffer.db "SELECT … FROM
-- audit_events WHERE event_name = 'GetSecretValue'"). username follows
-- awsapi.AuditUsername: the IAM user name, "root" for the account root,
-- the session name (after the last "/" of the ARN) for sessions.
CREATE VIEW IF NOT EXISTS audit_events AS
SELECT seq, prev, hash, body,
	json_extract(CAST(body AS TEXT), '$.eventTime')                AS event_time,
	json_extract(CAST(body AS TEXT), '$.eventID')                  AS event_id,
	json_extract(CAST(body AS TEXT), '$.eventName')                AS event_name,
	json_extract(CAST(body AS TEXT), '$.eventSource')              AS event_source,
	json_extract(CAST(body AS TEXT), '$.readOnly')                 AS read_only,
	json_extract(CAST(body AS TEXT), '$.userIdentity.accessKeyId') AS access_key_id,
	json_extract(CAST(body AS TEXT), '$.errorCode')                AS error_code,
	json_extract(CAST(body AS TEXT), '$.sourceIPAddress')          AS source_ip,
	COALESCE(
		json_extract(CAST(body AS TEXT), '$.userIdentity.userName'),
		CASE
			WHEN json_extract(CAST(body AS TEXT), '$.userIdentity.type') = 'Root' THEN 'root'
			WHEN json_extract(CAST(body AS TEXT), '$.userIdentity.type') IN ('AssumedRole', 'FederatedUser', 'WebIdentityUser')
				AND instr(json_extract(CAST(body AS TEXT), '$.userIdentity.arn'), '/') > 0
			THEN replace(json_extract(CAST(body AS TEXT), '$.userIdentity.arn'),
				rtrim(json_extract(CAST(body AS TEXT), '$.userIdentity.arn'),
					replace(json_extract(CAST(body AS TEXT), '$.userIdentity.arn'), '/', '')), '')
		END,
		'') AS username
FROM audit_records;
