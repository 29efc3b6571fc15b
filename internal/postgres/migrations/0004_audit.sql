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

-- coffer_audit_append gives records their place in the chain and writes
-- them: under the row lock of audit_state (taken here, held until the
-- calling transaction ends), record i gets seq = size + i,
--   hash = SHA-256('coffer-audit-record-v1' || 0x00 || uint64be(seq) || prev || body)
-- (audit.RecordHash), its Merkle leaf SHA-256(0x00 || hash) joins the
-- compact range (audit.ChainState, binary form), and the records, their
-- lookup rows and the new state are written. It returns the first seq.
-- It runs inside PostgreSQL so that a unit sends it with its COMMIT in one
-- round trip: the chain lock is held for no client round trip, only for
-- this function and the commit. internal/audit's verifier checks its
-- output in every test that reads the log.
-- res_idx gives, per resource row, the 1-based index of its record.
CREATE FUNCTION coffer_audit_append(bodies bytea[], times timestamptz[], ids text[], names text[],
	sources text[], ro boolean[], users text[], keys text[], errs text[], ips text[],
	res_attr text[], res_value text[], res_idx integer[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
	st     bytea;
	size   bigint;
	last   bytea;
	rng    bytea[] := ARRAY[]::bytea[];
	first  bigint;
	n      integer := coalesce(array_length(bodies, 1), 0);
	k      integer;
	s      bigint;
	h      bytea;
	seqs   bigint[] := ARRAY[]::bigint[];
	prevs  bytea[] := ARRAY[]::bytea[];
	hashes bytea[] := ARRAY[]::bytea[];
BEGIN
	SELECT state INTO STRICT st FROM audit_state WHERE id = 1 FOR UPDATE;
	IF get_byte(st, 0) <> 1 OR (length(st) - 41) % 32 <> 0 THEN
		RAISE EXCEPTION 'coffer: bad audit chain state';
	END IF;
	size := ('x' || encode(substring(st FROM 2 FOR 8), 'hex'))::bit(64)::bigint;
	last := substring(st FROM 10 FOR 32);
	FOR i IN 0 .. (length(st) - 41) / 32 - 1 LOOP
		rng := rng || substring(st FROM 42 + 32 * i FOR 32);
	END LOOP;
	first := size + 1;
	FOR i IN 1 .. n LOOP
		size := size + 1;
		h := sha256('coffer-audit-record-v1'::bytea || '\x00'::bytea || int8send(size) || last || bodies[i]);
		seqs := seqs || size;
		prevs := prevs || last;
		hashes := hashes || h;
		rng := rng || sha256('\x00'::bytea || h);
		s := size - 1;
		WHILE s & 1 = 1 LOOP
			k := array_length(rng, 1);
			rng := rng[1:k - 2] || sha256('\x01'::bytea || rng[k - 1] || rng[k]);
			s := s >> 1;
		END LOOP;
		last := h;
	END LOOP;
	INSERT INTO audit_records (seq, prev, hash, body, event_time, event_id, event_name,
		event_source, read_only, username, access_key_id, error_code, source_ip)
	SELECT * FROM unnest(seqs, prevs, hashes, bodies, times, ids, names, sources, ro, users, keys, errs, ips);
	INSERT INTO audit_resources (attr, value, seq)
	SELECT a, v, first + x - 1 FROM unnest(res_attr, res_value, res_idx) AS r(a, v, x);
	UPDATE audit_state SET state = '\x01'::bytea || int8send(size) || last
		|| coalesce((SELECT string_agg(x, ''::bytea ORDER BY o) FROM unnest(rng) WITH ORDINALITY AS u(x, o)), ''::bytea)
	WHERE id = 1;
	RETURN first;
END
$$;
