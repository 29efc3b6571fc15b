-- IAM documents (users, roles, managed policies, OIDC providers) as JSON,
-- by kind and case-folded name. rev is set by the identity service on
-- every write; it keys the service's compiled-policy cache.
-- (As internal/sqlite 0002_iam.)
CREATE TABLE iam_docs (
	kind TEXT COLLATE "C" NOT NULL,
	name TEXT COLLATE "C" NOT NULL,
	rev  BIGINT NOT NULL,
	body BYTEA NOT NULL,
	PRIMARY KEY (kind, name)
);
