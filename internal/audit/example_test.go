package audit_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
)

// A store's committer owns one Chain. For each group commit it appends the
// staged events of every unit, rolls a unit's records back (Reset) when its
// savepoint fails, and persists the records and the new ChainState in the
// same transaction.
func ExampleChain() {
	chain, _ := audit.NewChain(audit.ChainState{}) // or the state loaded at start-up
	hasher, _ := audit.NewHasher(bytes.Repeat([]byte{1}, 32))

	ev := audit.NewAPICallEvent(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	ev.UserIdentity = audit.UserIdentity{Type: audit.IdentityIAMUser, UserName: "alice"}
	ev.EventSource, ev.EventName = audit.SourceSecretsManager, "PutSecretValue"
	ev.RequestParams, _ = hasher.ScrubJSON(
		[]byte(`{"SecretId":"db","SecretString":"hunter2","ClientRequestToken":"t-1"}`),
		audit.DefaultDropParams(), audit.DefaultHMACParams())

	savepoint := chain.State()
	rec, _ := chain.AppendEvent(ev)
	unitFailed := false
	if unitFailed {
		chain.Reset(savepoint) // the unit's records are not committed
	}
	// tx: INSERT rec (seq, prev, hash, body); UPDATE chain state; COMMIT
	state, _ := chain.State().MarshalBinary()

	fmt.Println(rec.Seq, len(state), bytes.Contains(rec.Body, []byte("hunter2")))
	// Output: 1 73 false
}

// Periodically the server signs a checkpoint and exports it off-box;
// verification replays the records against it.
func ExampleVerify() {
	chain, _ := audit.NewChain(audit.ChainState{})
	var recs []audit.Record
	for i := range 5 {
		r, _ := chain.Append(fmt.Appendf(nil, `{"n":%d}`, i))
		recs = append(recs, r)
	}
	signer, _ := audit.NewSigner(bytes.Repeat([]byte{2}, 32))
	note, _ := signer.SignCheckpoint(chain.Checkpoint("coffer.example/audit"))

	recs[2].Body = []byte(`{"n":9}`) // tampering
	_, err := audit.Verify(seqOf(recs), note, signer.PublicKey())
	fmt.Println(err)
	// Output: audit: log verification failed at seq 3: hash mismatch: stored hash 46f65716967f31b6 does not match the record's contents
}
