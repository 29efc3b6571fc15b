-- The audit trail (see internal/postgres/audit.go): one hash chain for the
-- whole cluster. Not the SQLite layout: `coffer migrate`, `backup` and
-- `restore` copy the log through the audit copy methods, not as rows.

-- One row per recorded request, in commit order (seq is given under the
-- lock on audit_state, taken as the last statement before COMMIT). body is
-- the event JSON byte for byte as it was hashed (never re-encoded: BYTEA,
-- not JSONB). The other columns are read from body when the record is
-- staged, for LookupEvents and operators; they are not hashed.
CREATE TABLE audit_records (
	seq           BIGINT PRIMARY KEY,
	prev          BYTEA NOT NULL,
	hash          BYTEA NOT NULL,
	body          BYTEA NOT NULL,
	event_time    TIMESTAMPTZ NOT NULL,
	event_id      TEXT COLLATE "C" NOT NULL,
	event_name    TEXT COLLATE "C" NOT NULL,
	event_source  TEXT COLLATE "C" NOT NULL,
	read_only     BOOLEAN NOT NULL,
	-- awsapi.AuditUsername: the IAM user name, "root", or a session name.
	username      TEXT COLLATE "C" NOT NULL,
	access_key_id TEXT COLLATE "C" NOT NULL,
	error_code    TEXT COLLATE "C" NOT NULL,
	source_ip     TEXT COLLATE "C" NOT NULL
);
-- LookupEvents: one attribute, newest first (an index per attribute,
-- scanned backwards from the top seq), or a time range.
CREATE INDEX audit_records_by_time     ON audit_records (event_time);
CREATE INDEX audit_records_by_event_id ON audit_records (event_id);
CREATE INDEX audit_records_by_name     ON audit_records (event_name, seq);
CREATE INDEX audit_records_by_source   ON audit_records (event_source, seq);
CREATE INDEX audit_records_by_ro       ON audit_records (read_only, seq);
CREATE INDEX audit_records_by_user     ON audit_records (username, seq);
CREATE INDEX audit_records_by_key      ON audit_records (access_key_id, seq);

-- The resources of each record, for the ResourceName and ResourceType
-- lookups: attr is 'name' (value = ARN) or 'type' (value = e.g.
-- AWS::SecretsManager::Secret), distinct per record.
CREATE TABLE audit_resources (
	attr  TEXT COLLATE "C" NOT NULL,
	value TEXT COLLATE "C" NOT NULL,
	seq   BIGINT NOT NULL,
	PRIMARY KEY (attr, value, seq)
);

-- The chain state (audit.ChainState, binary form) after the last record,
-- updated in the same transaction as the records it covers. Its row lock
-- is the cluster-wide lock that orders the log.
CREATE TABLE audit_state (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	state BYTEA NOT NULL
);
INSERT INTO audit_state (id, state) VALUES (1, decode('01' || repeat('00', 40), 'hex'));

-- Signed checkpoints (C2SP signed notes) of the tree of the first size records.
CREATE TABLE audit_checkpoints (
	size       BIGINT PRIMARY KEY,
	root       BYTEA NOT NULL,
	note       BYTEA NOT NULL,
	created_ms BIGINT NOT NULL
);
