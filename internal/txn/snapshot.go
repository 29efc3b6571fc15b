package txn

// SnapshotTable is one table of a store snapshot (`coffer migrate`,
// `backup`, `restore`): every adapter reads and loads these tables and
// columns, rows exactly as stored (sealed payloads, wrapped key material
// and JSON documents stay as they are). Types has one letter per column:
// 't' text (string), 'i' integer (int64), 'b' bytes ([]byte). Order is
// the ORDER BY of a read: the primary key.
type SnapshotTable struct {
	Name  string
	Cols  []string
	Types string
	Order string
}

// SnapshotTables lists the tables in an order where referenced rows load
// first. A new table is added here (and to both adapters' schemas). The
// audit log is not among them: its layout differs between the adapters, so
// it moves through their AuditCheckpoints, AllAuditRecords and ImportAudit,
// checked on the way in.
var SnapshotTables = []SnapshotTable{
	{"meta", []string{"k", "v"}, "tb", "k"},
	{"secrets", []string{"name", "arn", "created_ms", "changed_ms", "accessed_ms", "deleted", "purge_ms", "doc"}, "ttiiiiib", "name"},
	{"secret_versions", []string{"arn", "version_id", "accessed_ms", "payload"}, "ttib", "arn, version_id"},
	{"kms_keys", []string{"id", "doc", "due_ms"}, "tbi", "id"},
	{"kms_aliases", []string{"name", "doc"}, "tb", "name"},
	{"access_keys", []string{"id", "user_name", "doc"}, "ttb", "id"},
	{"iam_docs", []string{"kind", "name", "rev", "body"}, "ttib", "kind, name"},
}
