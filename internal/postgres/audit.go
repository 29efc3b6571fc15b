package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-dev/coffer/internal/audit"
)

// The audit sink: one hash chain for the whole cluster, whatever node
// records a request, so that deleting or reordering any record anywhere
// breaks it.
//
// The edge stages a request's record into the request's unit (StageAudit);
// the body's lookup fields are read then, outside any lock. When the unit
// commits, its last statement — after all of its other writes — calls
// coffer_audit_append (migrations/0004_audit.sql), which takes the row
// lock of audit_state (SELECT … FOR UPDATE), gives the unit's records
// their seq, prev and hash from the chain state found there, inserts them
// with their lookup rows and writes the new chain state; COMMIT follows in
// the same round trip. (The records of units that wrote nothing else —
// reads, failed requests — go to the node's group commit, auditGroup: one
// call, one transaction, for all of them that are waiting.) The lock is
// held through that function and the commit only — no client round trip — and because a unit commits while
// holding it, commits that add records are serialized and become visible
// in seq order: every snapshot sees a prefix of the log, and the record and
// the request's writes commit together or not at all. A unit that rolls
// back never took a seq, so it leaves no gap. The hashing runs in SQL
// (sha256, PostgreSQL ≥ 11) exactly as audit.Chain does it; every test
// that reads the log verifies it with internal/audit.
//
// The cost is that those commits — their WAL flushes — happen one at a
// time cluster-wide (docs/PERFORMANCE.md): writing requests get at most one
// commit per WAL flush for the whole cluster; reads share flushes.
//
// Contract (the same as internal/sqlite/audit.go's):
//
//	StageAudit(ctx, body []byte) error
//	LookupAudit(ctx, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)
//	AuditRecords(ctx, after uint64, limit int) ([]audit.Record, error)
//	AuditHead(ctx) (audit.ChainState, error)
//	PutAuditCheckpoint(ctx, size uint64, root [32]byte, note []byte) error
//	LatestAuditCheckpoint(ctx) ([]byte, error)
//	AuditCommitted() <-chan struct{}
//
// and for copies of a store (audit_copy.go):
//
//	AuditCheckpoints(ctx) ([]audit.StoredCheckpoint, error)
//	AllAuditRecords(ctx) iter.Seq2[audit.Record, error]
//	ImportAudit(ctx, recs iter.Seq2[audit.Record, error], cps []audit.StoredCheckpoint) error

// LookupKeys are the lookup attribute keys LookupAudit accepts (CloudTrail
// LookupAttributeKey names). ReadOnly takes "true" or "false".
var LookupKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

// ErrLookupKey is returned by LookupAudit for a key not in LookupKeys.
var ErrLookupKey = errors.New("postgres: unknown audit lookup attribute")

// lookupColumns are the audit_records columns of the scalar lookup keys.
var lookupColumns = map[string]string{
	"EventId":     "event_id",
	"EventName":   "event_name",
	"Username":    "username",
	"EventSource": "event_source",
	"AccessKeyId": "access_key_id",
}

// auditPoll is how often a node looks for records other nodes committed
// (AuditCommitted).
const auditPoll = 250 * time.Millisecond

// stagedAudit is a record waiting for its unit's commit.
type stagedAudit struct {
	body []byte
	c    auditCols
}

// auditCols are a record's lookup columns and resource rows.
type auditCols struct {
	time                                        time.Time
	id, name, source, user, key, errCode, srcIP string
	ro                                          bool
	res                                         []audit.Resource
}

// auditFields are the parts of an event body the lookups need.
type auditFields struct {
	EventTime    string `json:"eventTime"`
	EventID      string `json:"eventID"`
	EventName    string `json:"eventName"`
	EventSource  string `json:"eventSource"`
	ReadOnly     bool   `json:"readOnly"`
	ErrorCode    string `json:"errorCode"`
	SourceIP     string `json:"sourceIPAddress"`
	UserIdentity struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
	} `json:"userIdentity"`
	Resources []struct {
		ARN  string `json:"ARN"`
		Type string `json:"type"`
	} `json:"resources"`
}

// parseAuditCols reads the lookup columns of a record body. A body must
// be a single-line JSON object (audit.ValidBody: the decoder checks the
// syntax); fields it lacks are empty, a time it cannot read is the zero
// time.
func parseAuditCols(body []byte) (auditCols, error) {
	var f auditFields
	if !audit.ValidBody(body) {
		return auditCols{}, audit.ErrBody
	}
	if err := json.Unmarshal(body, &f); err != nil {
		// Valid JSON of the wrong shape (a field of another type).
		return auditCols{}, fmt.Errorf("%w: %w", audit.ErrBody, err)
	}
	u := audit.UserIdentity{Type: f.UserIdentity.Type, ARN: f.UserIdentity.ARN, UserName: f.UserIdentity.UserName}
	c := auditCols{time: f.time(), id: f.EventID, name: f.EventName, source: f.EventSource, user: u.LookupName(),
		key: f.UserIdentity.AccessKeyID, errCode: f.ErrorCode, srcIP: f.SourceIP, ro: f.ReadOnly}
	for _, x := range f.Resources {
		c.res = append(c.res, audit.Resource{ARN: x.ARN, Type: x.Type})
	}
	return c, nil
}

// keyAuditCols are the columns of a record staged with its event's
// lookup keys: what parseAuditCols reads from the body rendered from that
// event (TestAuditColsFromKeys).
func keyAuditCols(k *audit.LookupKeys) auditCols {
	return auditCols{time: time.Unix(k.Unix, 0).UTC(), id: k.EventID, name: k.EventName, source: k.EventSource,
		user: k.Username, key: k.AccessKeyID, errCode: k.ErrorCode, srcIP: k.SourceIP, ro: k.ReadOnly, res: k.Resources}
}

func (f *auditFields) time() time.Time {
	t, err := time.Parse(time.RFC3339, f.EventTime)
	if err != nil {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC().Truncate(time.Second)
}

// auditRows collects records for coffer_audit_append (body and lookup
// columns) or, with their seq and hashes, for direct inserts (ImportAudit).
type auditRows struct {
	seq                                                []int64
	prev, hash                                         [][]byte
	body                                               [][]byte
	times                                              []time.Time
	ids, names, sources, users, keys, errCodes, srcIPs []string
	ro                                                 []bool
	resAttr, resValue                                  []string
	resIdx                                             []int32 // 1-based index of the resource's record
}

// addFields adds a record's body, lookup columns and resource rows.
func (r *auditRows) addFields(body []byte, c *auditCols) {
	r.body = append(r.body, body)
	r.times = append(r.times, c.time)
	r.ids = append(r.ids, c.id)
	r.names = append(r.names, c.name)
	r.sources = append(r.sources, c.source)
	r.ro = append(r.ro, c.ro)
	r.users = append(r.users, c.user)
	r.keys = append(r.keys, c.key)
	r.errCodes = append(r.errCodes, c.errCode)
	r.srcIPs = append(r.srcIPs, c.srcIP)
	idx := int32(len(r.body))
	first := len(r.resAttr)
	res := func(attr, value string) {
		if value == "" {
			return
		}
		for i := first; i < len(r.resAttr); i++ {
			if r.resAttr[i] == attr && r.resValue[i] == value {
				return
			}
		}
		r.resAttr = append(r.resAttr, attr)
		r.resValue = append(r.resValue, value)
		r.resIdx = append(r.resIdx, idx)
	}
	for _, x := range c.res {
		res("name", x.ARN)
		res("type", x.Type)
	}
}

// addRecord adds a record whose place in the chain is known.
func (r *auditRows) addRecord(rec *audit.Record, c *auditCols) {
	r.seq = append(r.seq, int64(rec.Seq))
	r.prev = append(r.prev, rec.Prev[:])
	r.hash = append(r.hash, rec.Hash[:])
	r.addFields(rec.Body, c)
}

func (r *auditRows) len() int { return len(r.body) }

const (
	appendAuditSQL = `SELECT coffer_audit_append($1::bytea[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
	$6::boolean[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::integer[])`
	insertAuditRecords = `INSERT INTO audit_records (seq, prev, hash, body, event_time, event_id, event_name,
	event_source, read_only, username, access_key_id, error_code, source_ip)
	SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::timestamptz[], $6::text[],
	$7::text[], $8::text[], $9::boolean[], $10::text[], $11::text[], $12::text[], $13::text[])`
	insertAuditResources = `INSERT INTO audit_resources (attr, value, seq)
	SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])`
)

// queueAppend adds the call of coffer_audit_append for the collected
// records (bodies and lookup columns; the function gives them their seq).
func (r *auditRows) queueAppend(b *pgx.Batch) {
	b.Queue(appendAuditSQL, r.body, r.times, r.ids, r.names, r.sources, r.ro, r.users, r.keys,
		r.errCodes, r.srcIPs, r.resAttr, r.resValue, r.resIdx)
}

// queueInsert adds direct inserts of the collected records (addRecord).
func (r *auditRows) queueInsert(b *pgx.Batch) {
	b.Queue(insertAuditRecords, r.seq, r.prev, r.hash, r.body, r.times, r.ids, r.names,
		r.sources, r.ro, r.users, r.keys, r.errCodes, r.srcIPs)
	if len(r.resIdx) > 0 {
		seqs := make([]int64, len(r.resIdx))
		for i, x := range r.resIdx {
			seqs[i] = r.seq[x-1]
		}
		b.Queue(insertAuditResources, r.resAttr, r.resValue, seqs)
	}
}

// StageAudit stages one audit record into the unit of work in ctx (or
// commits it on its own when ctx carries none): body is the event's JSON
// (a single-line object, as audit.Event.Marshal makes it), stored byte for
// byte. The record gets its seq and hashes when the unit commits; if
// writing it fails, the whole unit fails.
func (db *DB) StageAudit(ctx context.Context, body []byte) error {
	c, err := parseAuditCols(body)
	if err != nil {
		return err
	}
	return db.stageAudit(ctx, body, c)
}

// StageAuditKeyed is StageAudit for a body rendered from an event whose
// lookup keys are k (audit.Event.LookupKeys): the lookup columns come
// from k instead of a parse of the body (≈ 12 µs for a GetSecretValue
// event), and body is not checked: the caller rendered it from the event
// (audit.Event.AppendJSON). k's strings and resources must stay unchanged
// until the unit ends.
func (db *DB) StageAuditKeyed(ctx context.Context, body []byte, k audit.LookupKeys) error {
	return db.stageAudit(ctx, body, keyAuditCols(&k))
}

func (db *DB) stageAudit(ctx context.Context, body []byte, c auditCols) error {
	u := db.unitIn(ctx)
	own := u == nil
	if own {
		u = &Unit{db: db}
		defer u.Rollback()
	}
	u.audit = append(u.audit, stagedAudit{body: body, c: c})
	if own {
		return u.Commit()
	}
	return nil
}

// auditBatch returns the unit's staged records as a call of
// coffer_audit_append (migrations/0004_audit.sql): under the cluster-wide
// lock it takes, the function gives them their seq, prev and hash from the
// chain state and writes them with their lookup rows and the new chain
// state. The unit sends it last, with its COMMIT (or alone, as its own
// transaction, when the unit wrote nothing else), so that the lock is held
// through the function and the commit only.
func auditBatch(staged []stagedAudit) *pgx.Batch {
	var rows auditRows
	for i := range staged {
		rows.addFields(staged[i].body, &staged[i].c)
	}
	b := &pgx.Batch{}
	rows.queueAppend(b)
	return b
}

// maxAuditGroup bounds how many units' records one group commit takes.
const maxAuditGroup = 512

// auditGroup commits the records of units that wrote nothing else — read
// requests, failed requests — many units per transaction: one goroutine
// per node takes what is queued, up to maxAuditGroup units, and commits it
// with one coffer_audit_append call; units queued meanwhile form the next
// group. A unit that writes commits its record with its writes instead.
// Commits that hold the chain lock are serialized cluster-wide (one WAL
// flush each), so grouping is what lets reads outrun that.
type auditGroup struct {
	once   sync.Once
	mu     sync.RWMutex // guards closed against submit
	closed bool
	in     chan *auditReq
	stop   chan struct{}
	done   chan struct{}
}

// auditReq is one unit's records waiting for a group commit.
type auditReq struct {
	staged   []stagedAudit
	deadline time.Time // the unit's storage timeout: the group never outlives it
	err      chan error
}

var errClosed = errors.New("postgres: database is closed")

// commitAuditAlone commits records of a unit without other writes through
// the node's group commit, and waits for it.
func (db *DB) commitAuditAlone(staged []stagedAudit) error {
	g := &db.auditGroup
	g.once.Do(func() { go db.runAuditGroup() })
	req := &auditReq{staged: staged, deadline: time.Now().Add(db.timeout), err: make(chan error, 1)}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return errClosed
	}
	g.in <- req
	g.mu.RUnlock()
	return <-req.err
}

func (db *DB) runAuditGroup() {
	g := &db.auditGroup
	defer close(g.done)
	group := make([]*auditReq, 0, maxAuditGroup)
	for {
		select {
		case r := <-g.in:
			group = append(group[:0], r)
		case <-g.stop:
			for { // what was submitted before Close
				select {
				case r := <-g.in:
					db.commitAuditGroup([]*auditReq{r})
				default:
					return
				}
			}
		}
	fill:
		for len(group) < maxAuditGroup {
			select {
			case r := <-g.in:
				group = append(group, r)
			default:
				break fill
			}
		}
		db.commitAuditGroup(group)
		clear(group)
	}
}

// commitAuditGroup commits the records of group in one transaction (one
// statement) bounded by the earliest deadline of its units, and answers
// each unit. A unit whose deadline passed while it waited fails without
// being committed.
func (db *DB) commitAuditGroup(group []*auditReq) {
	now := time.Now()
	var (
		staged   []stagedAudit
		live     []*auditReq
		deadline time.Time
	)
	for _, r := range group {
		if !now.Before(r.deadline) {
			r.err <- fmt.Errorf("postgres: audit group commit: %w", context.DeadlineExceeded)
			continue
		}
		if deadline.IsZero() || r.deadline.Before(deadline) {
			deadline = r.deadline
		}
		live = append(live, r)
		staged = append(staged, r.staged...)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	err := db.pool.SendBatch(ctx, auditBatch(staged)).Close()
	cancel()
	for _, r := range live {
		r.err <- err
	}
}

// closeAuditGroup stops the group commit (after committing what was
// submitted).
func (db *DB) closeAuditGroup() {
	g := &db.auditGroup
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	started := true
	g.once.Do(func() { started = false })
	if started {
		close(g.stop)
		<-g.done
	}
}

// auditCommitted signals AuditCommitted's channel (coalesced).
func (db *DB) auditCommitted() {
	select {
	case db.auditNotify <- struct{}{}:
	default:
	}
}

// AuditCommitted returns a channel that receives a value after records
// were committed, by this node or another, within auditPoll (coalesced:
// one value stands for every commit since the last look). It has one
// consumer (the server's mirror and checkpoint loop). Commits do not
// signal it themselves: under load that would wake the consumer — and its
// queries — once per commit.
func (db *DB) AuditCommitted() <-chan struct{} {
	db.auditPollOnce.Do(func() { go db.pollAudit() })
	return db.auditNotify
}

// pollAudit signals when the log grew, whichever node made it grow.
func (db *DB) pollAudit() {
	defer close(db.auditDone)
	t := time.NewTicker(auditPoll)
	defer t.Stop()
	var last uint64 // a first look that finds records signals too: harmless
	for {
		select {
		case <-db.auditStop:
			return
		case <-t.C:
		}
		ctx, cancel := db.bound(context.Background())
		st, err := db.AuditHead(ctx)
		cancel()
		if err != nil {
			continue // the database is away: the next poll will tell
		}
		if st.Size != last {
			last = st.Size
			db.auditCommitted()
		}
	}
}

// snapKey carries a ReadSnapshot transaction (a *readSnapshot).
type snapKey struct{}

type readSnapshot struct {
	db *DB
	tx pgx.Tx
}

// snapshotTx returns this DB's ReadSnapshot transaction that ctx carries,
// if any (a context may carry another DB's: a copy between two databases).
func (db *DB) snapshotTx(ctx context.Context) pgx.Tx {
	if s, ok := ctx.Value(snapKey{}).(*readSnapshot); ok && s.db == db {
		return s.tx
	}
	return nil
}

// auditReader is what audit reads use: a ReadSnapshot transaction, the
// unit's transaction, or the pool.
func (db *DB) auditReader(ctx context.Context) querier {
	if tx := db.snapshotTx(ctx); tx != nil {
		return tx
	}
	return db.reader(ctx)
}

// ReadSnapshot runs fn with a context in which Snapshot, AuditHead,
// AuditCheckpoints, AuditRecords and AllAuditRecords all read one
// consistent snapshot of the database (one REPEATABLE READ, read-only
// transaction), while nodes keep writing: a backup's rows, records and
// checkpoints then agree. fn must not use that context concurrently.
func (db *DB) ReadSnapshot(ctx context.Context, fn func(ctx context.Context) error) error {
	if db.snapshotTx(ctx) != nil {
		return fn(ctx)
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The reader may pause (a slow destination).
	if _, err := tx.Exec(ctx, "SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
		return err
	}
	if err := fn(context.WithValue(ctx, snapKey{}, &readSnapshot{db: db, tx: tx})); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// AuditHead returns the chain state of the committed records (of the
// whole cluster).
func (db *DB) AuditHead(ctx context.Context) (audit.ChainState, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var blob []byte
	if err := db.auditReader(ctx).QueryRow(ctx, "SELECT state FROM audit_state WHERE id = 1").Scan(&blob); err != nil {
		return audit.ChainState{}, fmt.Errorf("postgres: read the audit chain state: %w", err)
	}
	var st audit.ChainState
	if err := st.UnmarshalBinary(blob); err != nil {
		return audit.ChainState{}, err
	}
	return st, nil
}

// PutAuditCheckpoint stores a signed checkpoint of the tree of the first
// size records (a second one of the same size is ignored, so that nodes
// may sign the same size).
func (db *DB) PutAuditCheckpoint(ctx context.Context, size uint64, root [32]byte, note []byte) error {
	return db.write(ctx, "", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO audit_checkpoints (size, root, note, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
			int64(size), root[:], note, time.Now().UnixMilli())
		return err
	})
}

// LatestAuditCheckpoint returns the signed checkpoint note of the largest
// tree size (nil if none).
func (db *DB) LatestAuditCheckpoint(ctx context.Context) ([]byte, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var note []byte
	err := db.auditReader(ctx).QueryRow(ctx, "SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").Scan(&note)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit checkpoint: %w", err)
	}
	return note, nil
}

// AuditRecords returns up to limit records with seq > after, in seq order.
func (db *DB) AuditRecords(ctx context.Context, after uint64, limit int) ([]audit.Record, error) {
	if limit <= 0 {
		limit = 1000
	}
	return db.queryRecords(ctx, "SELECT seq, prev, hash, body FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2", int64(after), limit)
}

// LookupAudit returns up to limit records, newest (highest seq) first,
// with seq < before (0: no bound), event time in [start, end] (zero:
// unbounded; whole seconds) and, when key is not "", the lookup attribute
// key equal to value.
func (db *DB) LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error) {
	if limit <= 0 {
		limit = 50
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	from := "audit_records r"
	switch key {
	case "":
	case "ResourceName", "ResourceType":
		// Driven by the resource rows, newest first; the join finds the record.
		attr := "name"
		if key == "ResourceType" {
			attr = "type"
		}
		from = "audit_resources x JOIN audit_records r ON r.seq = x.seq"
		where = append(where, "x.attr = "+arg(attr), "x.value = "+arg(value))
	case "ReadOnly":
		switch value {
		case "true", "false":
		default:
			return nil, fmt.Errorf("%w: ReadOnly must be true or false", ErrLookupKey)
		}
		where = append(where, "r.read_only = "+arg(value == "true"))
	default:
		col, ok := lookupColumns[key]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrLookupKey, key)
		}
		where = append(where, "r."+col+" = "+arg(value))
	}
	seqCol := "r.seq"
	if strings.HasPrefix(from, "audit_resources") {
		seqCol = "x.seq"
	}
	if before > 0 {
		where = append(where, seqCol+" < "+arg(int64(before)))
	}
	if !start.IsZero() {
		where = append(where, "r.event_time >= "+arg(start.UTC().Truncate(time.Second)))
	}
	if !end.IsZero() {
		where = append(where, "r.event_time <= "+arg(end.UTC().Truncate(time.Second)))
	}
	q := "SELECT r.seq, r.prev, r.hash, r.body FROM " + from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + seqCol + " DESC LIMIT " + arg(limit)
	return db.queryRecords(ctx, q, args...)
}

func (db *DB) queryRecords(ctx context.Context, q string, args ...any) ([]audit.Record, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.auditReader(ctx).Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read audit records: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var seq int64
		var prev, hash, body []byte
		if err := rows.Scan(&seq, &prev, &hash, &body); err != nil {
			return out, fmt.Errorf("postgres: read audit record: %w", err)
		}
		if seq <= 0 || len(prev) != 32 || len(hash) != 32 {
			// Reported as malformed by verification.
			return out, fmt.Errorf("%w: row seq %d has malformed seq or hashes", audit.ErrRecord, seq)
		}
		out = append(out, audit.Record{Seq: uint64(seq), Prev: [32]byte(prev), Hash: [32]byte(hash), Body: body})
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("postgres: read audit records: %w", err)
	}
	return out, nil
}

// AllAuditRecords iterates over the whole log in seq order, as stored
// (nothing is checked here), reading in pages. Within ReadSnapshot it
// reads that snapshot. It stops after yielding an error.
func (db *DB) AllAuditRecords(ctx context.Context) iter.Seq2[audit.Record, error] {
	return func(yield func(audit.Record, error) bool) {
		const page = 1000
		var after uint64
		for {
			recs, err := db.AuditRecords(ctx, after, page)
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
			if len(recs) < page {
				return
			}
		}
	}
}
