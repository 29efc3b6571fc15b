// Package audit owns Coffer's audit trail: the CloudTrail-shaped event
// recorded for every API request, the scrubbing of sensitive values out of
// it, and the tamper-evident log those events are committed to.
//
// # Layers
//
//   - [Event] is one CloudTrail record ("eventVersion" 1.08). It never holds a
//     secret: request parameters go through [Hasher.ScrubJSON], which drops
//     secret values outright and replaces correlatable identifiers (session
//     tokens, ClientRequestTokens) by a keyed "hmac-sha256:<hex>" digest.
//   - [Record] wraps the event JSON (its Body) with a sequence number and a
//     hash chain: Hash = SHA-256("coffer-audit-record-v1" || 0x00 ||
//     uint64be(Seq) || Prev || Body), Prev being the previous record's Hash.
//   - Every record hash is also a leaf of an RFC 6962 Merkle tree (leaf =
//     SHA-256(0x00 || Hash)). [Chain] maintains the chain head and the tree's
//     compact range (O(log n) hashes) so that a store can persist it with its
//     table ([ChainState]) and reload it at start-up.
//   - [Checkpoint] is a C2SP tlog-checkpoint (origin, tree size, root) signed
//     as a C2SP signed note with Ed25519 ([Signer], [VerifyCheckpoint]).
//     Checkpoints are meant to be exported off-box.
//   - [Verify] replays records in order against a trusted checkpoint and names
//     the first bad record ([VerifyError]).
//   - [FileSink] and [WriterSink] mirror committed records as JSON Lines
//     (see [AppendRecordLine] for the line format); [ReadFiles] reads a
//     rotated mirror back in order.
//
// Seq numbers start at 1: record Seq is leaf Seq-1 of the tree, and a tree
// (or checkpoint) of size N covers exactly the records with Seq 1..N.
//
// The package imports only the standard library. Chain is not safe for
// concurrent use (one committer owns it); Hasher, FileSink and WriterSink are.
package audit
