-- Change counters for the nodes' read caches (internal/postgres/readcache.go).
-- Every committed change to a cached table bumps its kind's counter in the
-- same transaction, by deferred triggers (so at COMMIT, after the audit
-- append took its lock: the lock order stays audit_state, data_version).
-- One row for all kinds, so that a transaction changing several kinds
-- takes one row lock, never two in an order another could reverse.
-- Triggers rather than Coffer code, so that every writer counts: other
-- Coffer versions during a rolling upgrade, restores, an operator's SQL.
CREATE TABLE data_version (
	one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
	iam     BIGINT NOT NULL,
	kms     BIGINT NOT NULL,
	secrets BIGINT NOT NULL
);
INSERT INTO data_version (iam, kms, secrets) VALUES (0, 0, 0);

CREATE FUNCTION coffer_data_changed() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
	UPDATE data_version SET iam = iam + (TG_ARGV[0] = 'iam')::int,
		kms = kms + (TG_ARGV[0] = 'kms')::int,
		secrets = secrets + (TG_ARGV[0] = 'secrets')::int;
	RETURN NULL;
END
$$;

-- Per table: a deferred row trigger for INSERT, UPDATE and DELETE, and a
-- statement trigger for TRUNCATE (coffer restore), which fires no row
-- trigger.
DO $$
DECLARE
	t RECORD;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('secrets', 'secrets'), ('secret_versions', 'secrets'),
		('kms_keys', 'kms'), ('kms_aliases', 'kms'), ('access_keys', 'iam'), ('iam_docs', 'iam')) AS x(tbl, kind)
	LOOP
		EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION coffer_data_changed(%L)',
			t.tbl || '_changed', t.tbl, t.kind);
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION coffer_data_changed(%L)',
			t.tbl || '_truncated', t.tbl, t.kind);
	END LOOP;
END
$$;
