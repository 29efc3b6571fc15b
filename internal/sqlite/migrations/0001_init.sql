-- Key/value facts about this database: account id, root-key check value, …
CREATE TABLE meta (
	k TEXT PRIMARY KEY,
	v BLOB NOT NULL
) WITHOUT ROWID;

-- One row per secret. doc is the JSON of secrets.Secret; the other columns
-- exist for lookups, ordering and the access-day bookkeeping that lives
-- outside the document.
CREATE TABLE secrets (
	name         TEXT PRIMARY KEY,
	arn          TEXT NOT NULL UNIQUE,
	created_ms   INTEGER NOT NULL,
	changed_ms   INTEGER NOT NULL,
	accessed_ms  INTEGER NOT NULL DEFAULT 0,
	deleted      INTEGER NOT NULL DEFAULT 0,
	purge_ms     INTEGER NOT NULL DEFAULT 0,
	doc          BLOB NOT NULL
);
CREATE INDEX secrets_by_created  ON secrets (created_ms, name);
CREATE INDEX secrets_by_changed  ON secrets (changed_ms, name);
CREATE INDEX secrets_by_accessed ON secrets (accessed_ms, name);
CREATE INDEX secrets_by_purge    ON secrets (purge_ms) WHERE purge_ms > 0;

-- Sealed version payloads (ciphertext only).
CREATE TABLE secret_versions (
	arn          TEXT NOT NULL,
	version_id   TEXT NOT NULL,
	accessed_ms  INTEGER NOT NULL DEFAULT 0,
	payload      BLOB NOT NULL,
	PRIMARY KEY (arn, version_id)
) WITHOUT ROWID;

CREATE TABLE kms_keys (
	id   TEXT PRIMARY KEY,
	doc  BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE kms_aliases (
	name TEXT PRIMARY KEY,
	doc  BLOB NOT NULL
) WITHOUT ROWID;

-- Access keys; the secret key inside doc is wrapped by the root key.
CREATE TABLE access_keys (
	id        TEXT PRIMARY KEY,
	user_name TEXT NOT NULL,
	doc       BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_keys_by_user ON access_keys (user_name, id);
