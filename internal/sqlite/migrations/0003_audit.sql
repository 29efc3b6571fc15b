-- The audit trail (see internal/audit and internal/sqlite/audit.go).
--
-- One row per recorded request, in commit order. seq, prev, hash and body
-- are the hash-chained record: body is the event JSON byte for byte as it
-- was hashed (never re-encoded). The other columns copy event fields for
-- lookups (CloudTrail LookupEvents, coffer audit query); they are not
-- covered by the hash, so verification reads only seq/prev/hash/body.
CREATE TABLE IF NOT EXISTS audit_records (
	seq           INTEGER PRIMARY KEY,
	prev          BLOB NOT NULL,
	hash          BLOB NOT NULL,
	body          BLOB NOT NULL,
	time_s        INTEGER NOT NULL,
	event_id      TEXT NOT NULL,
	event_name    TEXT NOT NULL,
	event_source  TEXT NOT NULL,
	read_only     INTEGER NOT NULL,
	username      TEXT NOT NULL,
	access_key_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_name ON audit_records (event_name, seq);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit_records (username, seq);
CREATE INDEX IF NOT EXISTS audit_by_key  ON audit_records (access_key_id, seq);

-- The resources (ARNs) each record names, for ResourceName/ResourceType lookups.
CREATE TABLE IF NOT EXISTS audit_resources (
	name TEXT NOT NULL,
	seq  INTEGER NOT NULL,
	type TEXT NOT NULL,
	PRIMARY KEY (name, seq)
) WITHOUT ROWID;

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
