-- IAM documents (users, roles, managed policies, OIDC providers) as JSON,
-- by kind and case-folded name. rev is set by the identity service on
-- every write; it keys the service's compiled-policy cache.
CREATE TABLE iam_docs (
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	rev  INTEGER NOT NULL,
	body BLOB NOT NULL,
	PRIMARY KEY (kind, name)
) WITHOUT ROWID;
