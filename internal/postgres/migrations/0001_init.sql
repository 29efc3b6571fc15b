-- The same tables, columns and JSON documents as internal/sqlite (0001_init),
-- so that `coffer migrate` copies rows as they are (still encrypted).
-- Text keys use the "C" collation: names sort bytewise, as in SQLite.

-- Key/value facts about this database: account id, root-key check value, …
CREATE TABLE meta (
	k TEXT COLLATE "C" PRIMARY KEY,
	v BYTEA NOT NULL
);

-- One row per secret. doc is the JSON of secrets.Secret; the other columns
-- exist for lookups, ordering and the access-day bookkeeping that lives
-- outside the document.
CREATE TABLE secrets (
	name         TEXT COLLATE "C" PRIMARY KEY,
	arn          TEXT COLLATE "C" NOT NULL UNIQUE,
	created_ms   BIGINT NOT NULL,
	changed_ms   BIGINT NOT NULL,
	accessed_ms  BIGINT NOT NULL DEFAULT 0,
	deleted      INTEGER NOT NULL DEFAULT 0,
	purge_ms     BIGINT NOT NULL DEFAULT 0,
	doc          BYTEA NOT NULL
);
CREATE INDEX secrets_by_created  ON secrets (created_ms, name);
CREATE INDEX secrets_by_changed  ON secrets (changed_ms, name);
CREATE INDEX secrets_by_accessed ON secrets (accessed_ms, name);
CREATE INDEX secrets_by_purge    ON secrets (purge_ms) WHERE purge_ms > 0;

-- Sealed version payloads (ciphertext only).
CREATE TABLE secret_versions (
	arn          TEXT COLLATE "C" NOT NULL,
	version_id   TEXT COLLATE "C" NOT NULL,
	accessed_ms  BIGINT NOT NULL DEFAULT 0,
	payload      BYTEA NOT NULL,
	PRIMARY KEY (arn, version_id)
);

CREATE TABLE kms_keys (
	id   TEXT COLLATE "C" PRIMARY KEY,
	doc  BYTEA NOT NULL
);

CREATE TABLE kms_aliases (
	name TEXT COLLATE "C" PRIMARY KEY,
	doc  BYTEA NOT NULL
);

-- Access keys; the secret key inside doc is wrapped by the root key.
CREATE TABLE access_keys (
	id        TEXT COLLATE "C" PRIMARY KEY,
	user_name TEXT COLLATE "C" NOT NULL,
	doc       BYTEA NOT NULL
);
CREATE INDEX access_keys_by_user ON access_keys (user_name, id);
