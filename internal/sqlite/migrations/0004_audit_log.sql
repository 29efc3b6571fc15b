-- The audit trail's records move to the segment log (internal/auditlog,
-- <data-dir>/audit/*.seg): the database keeps what continues it and finds
-- records in it. Records of the audit_records table of migration 0003 are
-- copied into the log when the store opens, and that table and
-- audit_state are then dropped (internal/sqlite/audit.go).

DROP VIEW IF EXISTS audit_events;

-- The chain state (audit.ChainState, binary form) after the last record of
-- the last batch that also committed store writes, the position of that
-- record's frame, and that batch's id (the seq of its first record): the
-- log's tail after it is checked, and a store batch after it cut, when the
-- store opens. cut_from is the first seq of a batch whose write failed and
-- could not be erased (cut at the next start), 0 if none.
CREATE TABLE IF NOT EXISTS audit_log (
	id          INTEGER PRIMARY KEY CHECK (id = 1),
	state       BLOB NOT NULL,
	last_seg    INTEGER NOT NULL,
	last_off    INTEGER NOT NULL,
	store_batch INTEGER NOT NULL,
	cut_from    INTEGER NOT NULL
);

-- The lookup index: one row per block of up to 1,024 consecutive records,
-- with where the block's frames are (seg/off of the first, end_seg/end_off
-- just past the last), the range of their event times (Unix seconds) and
-- a Bloom filter of their lookup attribute values (auditlog.Summary; keys
-- is how many were added). Rebuilt from the log when it is missing or
-- behind (`coffer audit reindex`, or at start).
CREATE TABLE IF NOT EXISTS audit_blocks (
	first_seq INTEGER PRIMARY KEY,
	last_seq  INTEGER NOT NULL,
	seg       INTEGER NOT NULL,
	off       INTEGER NOT NULL,
	end_seg   INTEGER NOT NULL,
	end_off   INTEGER NOT NULL,
	min_time  INTEGER NOT NULL,
	max_time  INTEGER NOT NULL,
	keys      INTEGER NOT NULL,
	bloom     BLOB NOT NULL
);
