package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

// Reads of the audit tables, shared by DB (the server) and AuditReader
// (offline tools, which must work while a server holds the database).

// LookupKeys are the lookup attribute keys LookupAudit accepts (CloudTrail
// LookupAttributeKey names). ReadOnly takes "true" or "false".
var LookupKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

// ErrLookupKey is returned by LookupAudit for a key not in LookupKeys.
var ErrLookupKey = errors.New("sqlite: unknown audit lookup attribute")

// lookupColumns are the audit_events columns of the lookup keys.
var lookupColumns = map[string]string{
	"EventId":     "event_id",
	"EventName":   "event_name",
	"Username":    "username",
	"EventSource": "event_source",
	"AccessKeyId": "access_key_id",
}

// LookupAudit returns up to limit records, newest (highest seq) first,
// with seq < before (0: no bound), event time in [start, end] (zero:
// unbounded; whole seconds) and, when key is not "", the lookup attribute
// key equal to value.
func (db *DB) LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error) {
	return lookupAudit(ctx, db.read, key, value, start, end, before, limit)
}

// AuditRecords returns up to limit records with seq > after, in seq order.
func (db *DB) AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error) {
	return auditRecords(ctx, db.read, after, limit)
}

// LatestAuditCheckpoint returns the signed checkpoint note of the largest
// tree size (nil if none).
func (db *DB) LatestAuditCheckpoint(ctx context.Context) ([]byte, error) {
	return latestCheckpoint(ctx, db.read)
}

func lookupAudit(ctx context.Context, q *sql.DB, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error) {
	if limit <= 0 {
		limit = 50
	}
	var where []string
	var args []any
	switch key {
	case "":
	case "ResourceName", "ResourceType":
		field := "$.ARN"
		if key == "ResourceType" {
			field = "$.type"
		}
		where = append(where, "EXISTS (SELECT 1 FROM json_each(CAST(body AS TEXT), '$.resources') WHERE json_extract(value, '"+field+"') = ?)")
		args = append(args, value)
	case "ReadOnly":
		ro := 0
		if value == "true" {
			ro = 1
		} else if value != "false" {
			return nil, fmt.Errorf("%w: ReadOnly must be true or false", ErrLookupKey)
		}
		where = append(where, "read_only = ?")
		args = append(args, ro)
	default:
		col, ok := lookupColumns[key]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrLookupKey, key)
		}
		where = append(where, col+" = ?")
		args = append(args, value)
	}
	if before > 0 {
		where = append(where, "seq < ?")
		args = append(args, int64(before))
	}
	// eventTime is "2006-01-02T15:04:05Z" (UTC): text order is time order.
	if !start.IsZero() {
		where = append(where, "event_time >= ?")
		args = append(args, start.UTC().Format(audit.TimeFormat))
	}
	if !end.IsZero() {
		where = append(where, "event_time <= ?")
		args = append(args, end.UTC().Format(audit.TimeFormat))
	}
	query := "SELECT seq, prev, hash, body FROM audit_events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit)
	return queryRecords(ctx, q, query, args...)
}

func auditRecords(ctx context.Context, q *sql.DB, after uint64, limit int) ([]audit.Record, error) {
	if limit <= 0 {
		limit = 1000
	}
	return queryRecords(ctx, q, "SELECT seq, prev, hash, body FROM audit_records WHERE seq > ? ORDER BY seq LIMIT ?", int64(after), limit)
}

func queryRecords(ctx context.Context, q *sql.DB, query string, args ...any) ([]audit.Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit records: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("sqlite: read audit records: %w", err)
	}
	return out, nil
}

// scanRecord reads one (seq, prev, hash, body) row. A row whose hashes
// are not 32 bytes is returned as an error naming its seq, so that
// verification reports it as malformed.
func scanRecord(rows *sql.Rows) (audit.Record, error) {
	var seq int64
	var prev, hash, body []byte
	if err := rows.Scan(&seq, &prev, &hash, &body); err != nil {
		return audit.Record{}, fmt.Errorf("sqlite: read audit record: %w", err)
	}
	if seq <= 0 || len(prev) != 32 || len(hash) != 32 {
		return audit.Record{}, fmt.Errorf("%w: row seq %d has malformed seq or hashes", audit.ErrRecord, seq)
	}
	return audit.Record{Seq: uint64(seq), Prev: [32]byte(prev), Hash: [32]byte(hash), Body: body}, nil
}

// auditRecordIter iterates over every record with seq > after, in seq order,
// reading in pages. It stops after yielding an error.
func auditRecordIter(ctx context.Context, q *sql.DB) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		var after uint64
		for {
			recs, err := auditRecords(ctx, q, after, 1000)
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
				after = r.Seq
			}
			if err != nil {
				yield(audit.Record{}, err)
				return
			}
			if len(recs) < 1000 {
				return
			}
		}
	}
}

func latestCheckpoint(ctx context.Context, q *sql.DB) ([]byte, error) {
	var note []byte
	err := q.QueryRowContext(ctx, "SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit checkpoint: %w", err)
	}
	return note, nil
}

// AuditReader reads a database's audit tables and meta values through a
// read-only connection pool, without the database's lock: `coffer audit`
// subcommands use it, also while a server is running.
type AuditReader struct {
	read *sql.DB
}

// OpenAuditReader opens the existing database at path read-only.
func OpenAuditReader(path string) (*AuditReader, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	r, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(2)
	var version int
	if err := r.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var n int
	if err := r.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit_records'").Scan(&n); err != nil || n == 0 {
		r.Close()
		if err == nil {
			err = errors.New("no audit tables (start the server once to migrate the database)")
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &AuditReader{read: r}, nil
}

// Close closes the reader.
func (r *AuditReader) Close() error { return r.read.Close() }

// Meta returns a value from the meta table (nil, nil if absent).
func (r *AuditReader) Meta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := r.read.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// LookupAudit: see DB.LookupAudit.
func (r *AuditReader) LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error) {
	return lookupAudit(ctx, r.read, key, value, start, end, before, limit)
}

// AuditRecords: see DB.AuditRecords.
func (r *AuditReader) AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error) {
	return auditRecords(ctx, r.read, after, limit)
}

// AllAuditRecords iterates over the whole log in seq order, as stored
// (for verification: nothing is checked here).
func (r *AuditReader) AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error] {
	return auditRecordIter(ctx, r.read)
}

// LatestAuditCheckpoint: see DB.LatestAuditCheckpoint.
func (r *AuditReader) LatestAuditCheckpoint(ctx context.Context) ([]byte, error) {
	return latestCheckpoint(ctx, r.read)
}

// AuditHead returns the chain state stored with the records (unsigned:
// evidence, not proof), and false if there is none.
func (r *AuditReader) AuditHead(ctx context.Context) (audit.ChainState, bool, error) {
	var blob []byte
	err := r.read.QueryRowContext(ctx, "SELECT state FROM audit_state WHERE id = 1").Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.ChainState{}, false, nil
	}
	if err != nil {
		return audit.ChainState{}, false, err
	}
	var st audit.ChainState
	if err := st.UnmarshalBinary(blob); err != nil {
		return audit.ChainState{}, false, err
	}
	return st, true, nil
}
