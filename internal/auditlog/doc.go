// Package auditlog owns the audit trail's durable primary in SQLite mode:
// an append-only log of segment files, each a sequence of self-delimiting,
// checksummed frames holding one hash-chained audit.Record each.
//
// # Files
//
// A log is a directory of segments 00000001.seg, 00000002.seg, … (see
// SegmentPath). Each starts with a 16-byte header and is created at its
// full size, zero-filled and fsynced (file and directory), ahead of need,
// so that appending overwrites blocks the file system has already written:
// an fdatasync after such a write flushes only data. A zero length where a
// frame would start ends a segment's data. Frame layout: see AppendFrame.
//
// # Writing
//
// The store's committer owns the Log: per group commit it encodes every
// record of the batch into one buffer (AppendFrame; the last frame carries
// FlagBatchEnd, and every frame FlagStore if the batch also commits store
// writes), writes it with one pwrite and one fdatasync (Write), and only
// then commits its store transaction, which records the batch id. If that
// transaction fails the batch is erased (Retract: zeros, fdatasync); if
// even that fails the Log is broken and refuses further writes.
//
// # Recovery
//
// Open scans the tail after the record the store last committed (Start)
// and cuts — zero-fills — what was never acknowledged: a torn or garbage
// tail, a last batch without its last frame, and a last batch flagged
// FlagStore whose id is above the store's committed batch id (its store
// transaction never happened). A log that does not contain what the store
// committed is ErrDamaged.
//
// # Reading
//
// Frames and Records read a log directory from a position: up to a bound
// (what a store knows is committed), or to the end as an outside reader
// sees it while a server may be appending (see ReadOptions). Attrs reads
// the lookup attributes of an event body without a full JSON parse, and
// Summary/Bloom summarize a block of records for lookups.
//
// The package imports only the standard library and internal/audit.
package auditlog
