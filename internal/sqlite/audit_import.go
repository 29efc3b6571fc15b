package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/auditlog"
)

// Imports of a whole audit log into an empty one: restore and migrate
// (ImportAudit), and the records of the audit_records table of databases
// from before the segment log (migrateAuditRecords). The records are
// written as one batch (id 1, flagged as a store batch) in several writes,
// checked on the way, and then committed in one transaction with the chain
// state and the checkpoints: if anything fails before that commit, what
// was written is erased, and a crash leaves a batch that recovery cuts.

// importChunk is how many bytes of frames one write of an import carries.
const importChunk = 4 << 20

// errImport matches errors about the log being imported.
var errImport = audit.ErrImport

// importLog writes recs (from seq 1, in order) into the empty log, checks
// them (seq, chain, hashes, bodies) and cps against them, and commits the
// chain state, the checkpoints when insertCPs, and whatever inTx writes,
// in one transaction. The caller has the committer's state to itself.
func (a *auditLog) importLog(ctx context.Context, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint, insertCPs bool, inTx func(*sql.Tx) error) (err error) {
	if a.chain.Size() != 0 {
		return fmt.Errorf("%w (the audit log has %d records)", ErrNotEmpty, a.chain.Size())
	}
	cps = slices.Clone(cps)
	slices.SortFunc(cps, func(x, y audit.StoredCheckpoint) int { return cmp.Compare(x.Size, y.Size) })
	for i, c := range cps {
		if c.Size == 0 || (i > 0 && cps[i-1].Size == c.Size) {
			return fmt.Errorf("%w: checkpoint sizes must be unique and positive (%d)", errImport, c.Size)
		}
	}
	start := a.log.End()
	wrote := false
	defer func() {
		if err != nil {
			a.chain.Reset(audit.ChainState{})
			if wrote {
				if cerr := a.log.CutTo(start); cerr != nil {
					err = errors.Join(err, cerr)
				}
			}
		}
	}()
	var (
		buf      []byte
		lastOff  = -1
		last     auditlog.Pos
		held     audit.Record // the newest record, encoded when the next one comes (the last gets FlagBatchEnd)
		have     bool
		nextCP   int
		lastHash [32]byte
	)
	write := func() error {
		if len(buf) == 0 {
			return nil
		}
		p, err := a.log.Write(buf)
		wrote = true
		if err != nil {
			return err
		}
		last = auditlog.Pos{Seg: p.Seg, Off: p.Off + int64(lastOff)}
		buf = buf[:0]
		return nil
	}
	encode := func(r *audit.Record, flags byte) error {
		lastOff = len(buf)
		buf = auditlog.AppendFrame(buf, auditlog.FlagStore|flags, 1, r)
		if len(buf) >= importChunk {
			return write()
		}
		return nil
	}
	for r, err := range recs {
		if err != nil {
			return err
		}
		want := a.chain.Size() + 1
		if r.Seq != want {
			return fmt.Errorf("%w: seq %d where %d belongs", errImport, r.Seq, want)
		}
		if !audit.ValidBody(r.Body) || len(r.Body) > auditlog.MaxBody {
			return fmt.Errorf("%w: seq %d: %w", errImport, r.Seq, audit.ErrBody)
		}
		if have {
			if err := encode(&held, 0); err != nil {
				return err
			}
		}
		got, err := a.chain.Append(bytes.Clone(r.Body))
		if err != nil {
			return fmt.Errorf("%w: seq %d: %w", errImport, r.Seq, err)
		}
		if r.Prev != lastHash || got.Hash != r.Hash {
			return fmt.Errorf("%w: seq %d does not chain or its hash does not match its contents", errImport, r.Seq)
		}
		held, have, lastHash = got, true, got.Hash
		for nextCP < len(cps) && cps[nextCP].Size == got.Seq {
			if a.chain.Root() != cps[nextCP].Root {
				return fmt.Errorf("%w: checkpoint %d does not match the records", errImport, got.Seq)
			}
			nextCP++
		}
	}
	if nextCP < len(cps) {
		return fmt.Errorf("%w: checkpoint %d covers more records than the log has (%d)", errImport, cps[nextCP].Size, a.chain.Size())
	}
	if have {
		if err := encode(&held, auditlog.FlagBatchEnd); err != nil {
			return err
		}
		if err := write(); err != nil {
			return err
		}
	}
	tx, err := a.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if have {
		if err := a.recordBatch(ctx, tx, auditWrite{first: 1, last: last}); err != nil {
			return err
		}
	}
	if insertCPs {
		for _, c := range cps {
			if _, err := tx.ExecContext(ctx, "INSERT INTO audit_checkpoints (size, root, note, created_ms) VALUES (?, ?, ?, ?)",
				int64(c.Size), c.Root[:], c.Note, c.Created.UnixMilli()); err != nil {
				return fmt.Errorf("audit: insert checkpoints: %w", err)
			}
		}
	}
	if inTx != nil {
		if err := inTx(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if have {
		if a.ix != nil {
			a.ix.forget() // nothing was queued (the log was empty); the index reads the import back
		}
		a.publish(auditWrite{first: 1, pos: start, last: last, n: int(a.log.End().Off - start.Off)}, true)
		a.mu.Lock()
		a.end = a.log.End() // the import may span segments
		a.mu.Unlock()
	}
	return nil
}

// migrateAuditRecords moves the records of a database from before the
// segment log (table audit_records) into the log and drops the old tables.
func (db *DB) migrateAuditRecords(ctx context.Context) error {
	var n int
	if err := db.write.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit_records'").Scan(&n); err != nil || n == 0 {
		return err
	}
	cps, err := storedCheckpoints(ctx, db.write)
	if err != nil {
		return err
	}
	drop := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DROP TABLE audit_records; DROP TABLE IF EXISTS audit_state")
		return err
	}
	if err := db.audit.importLog(ctx, legacyRecords(ctx, db.write), cps, false, drop); err != nil {
		return fmt.Errorf("moving the audit records into the segment log: %w", err)
	}
	if size := db.audit.chain.Size(); size > 0 {
		db.log.Info("audit records moved into the segment log", "records", size, "dir", db.auditDir)
	}
	return nil
}

// legacyRecords iterates over the rows of the old audit_records table.
func legacyRecords(ctx context.Context, q *sql.DB) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		var after int64
		for {
			rows, err := q.QueryContext(ctx, "SELECT seq, prev, hash, body FROM audit_records WHERE seq > ? ORDER BY seq LIMIT 1000", after)
			if err != nil {
				yield(audit.Record{}, err)
				return
			}
			var recs []audit.Record
			for rows.Next() {
				var seq int64
				var prev, hash, body []byte
				if err := rows.Scan(&seq, &prev, &hash, &body); err != nil {
					rows.Close()
					yield(audit.Record{}, err)
					return
				}
				if seq <= 0 || len(prev) != 32 || len(hash) != 32 {
					rows.Close()
					yield(audit.Record{}, fmt.Errorf("%w: row seq %d has malformed seq or hashes", audit.ErrRecord, seq))
					return
				}
				recs = append(recs, audit.Record{Seq: uint64(seq), Prev: [32]byte(prev), Hash: [32]byte(hash), Body: body})
				after = seq
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				yield(audit.Record{}, err)
				return
			}
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
			if len(recs) < 1000 {
				return
			}
		}
	}
}

// storedCheckpoints reads every stored checkpoint, by size.
func storedCheckpoints(ctx context.Context, q *sql.DB) ([]audit.StoredCheckpoint, error) {
	rows, err := q.QueryContext(ctx, "SELECT size, root, note, created_ms FROM audit_checkpoints ORDER BY size")
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit checkpoints: %w", err)
	}
	defer rows.Close()
	out, err := audit.ScanCheckpoints(rows)
	if err != nil && !errors.Is(err, audit.ErrCheckpoint) {
		return nil, fmt.Errorf("sqlite: read audit checkpoints: %w", err)
	}
	return out, err
}
