package audit_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/coffer-dev/coffer/internal/audit"
)

// BenchmarkChainAppend: marshal a typical event, chain it and update the
// Merkle tree — the audit CPU cost of one request in the commit path.
func BenchmarkChainAppend(b *testing.B) {
	ev := assumedRoleEvent()
	c, _ := audit.NewChain(audit.ChainState{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AppendEvent(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainAppend/body: chaining alone, body already marshalled.
func BenchmarkChainAppendBody(b *testing.B) {
	body, _ := assumedRoleEvent().Marshal()
	c, _ := audit.NewChain(audit.ChainState{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Append(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHMAC(b *testing.B) {
	h := testHasher(b, 1)
	tok := "IQoJb3JpZ2luX2VjEHAaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexampleexampleexampleexampleexample"
	b.ReportAllocs()
	for b.Loop() {
		_ = h.HMAC(tok)
	}
}

func BenchmarkScrubJSON(b *testing.B) {
	h := testHasher(b, 1)
	in := []byte(`{"SecretId":"prod/db","SecretString":"value","ClientRequestToken":"6f1e3c2a-0000-4000-8000-00000000abcd","VersionStages":["AWSCURRENT"]}`)
	drop, hm := audit.DefaultDropParams(), audit.DefaultHMACParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.ScrubJSON(in, drop, hm); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScrubParams compares the two ways to a GetSecretValue's
// requestParameters: encoding/json + ScrubJSON (long) and ScrubParams.
func BenchmarkScrubParams(b *testing.B) {
	h := testHasher(b, 1)
	p := map[string]any{"secretId": "coffer-bench/000042", "versionStage": "AWSCURRENT"}
	drop, hm := audit.DefaultDropParams(), audit.DefaultHMACParams()
	b.Run("way=long", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, _ := json.Marshal(p)
			if _, err := h.ScrubJSON(raw, drop, hm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("way=short", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := h.ScrubParams(p, drop, hm); !ok {
				b.Fatal("not taken")
			}
		}
	})
}

func BenchmarkRecordLine(b *testing.B) {
	c, _ := audit.NewChain(audit.ChainState{})
	r, _ := c.AppendEvent(assumedRoleEvent())
	line, _ := audit.AppendRecordLine(nil, &r)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for b.Loop() {
			buf, _ = audit.AppendRecordLine(buf[:0], &r)
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := audit.ParseRecordLine(line); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerify reports the cost per record of a full verification.
func BenchmarkVerify(b *testing.B) {
	c, _ := audit.NewChain(audit.ChainState{})
	recs := make([]audit.Record, 1000)
	for i := range recs {
		recs[i], _ = c.AppendEvent(assumedRoleEvent())
	}
	cp := c.Checkpoint(testOrigin)
	b.Run("records=1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := audit.VerifyWith(seqOf(recs), audit.VerifyOptions{Checkpoints: []audit.Checkpoint{cp}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFileSink writes batches of 64 records with one fsync each.
func BenchmarkFileSink(b *testing.B) {
	c, _ := audit.NewChain(audit.ChainState{})
	s, err := audit.OpenFileSink(filepath.Join(b.TempDir(), "audit.jsonl"), audit.FileOptions{MaxBytes: 8 << 20, Keep: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ev := assumedRoleEvent()
	batch := make([]audit.Record, 64)
	b.Run("batch=64", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range batch {
				batch[i], _ = c.AppendEvent(ev)
			}
			if err := s.WriteRecords(batch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
