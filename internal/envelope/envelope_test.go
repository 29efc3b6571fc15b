package envelope_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/coffer-dev/coffer/internal/envelope"
)

func TestSealOpen(t *testing.T) {
	raw := envelope.NewDataKey()
	k, err := envelope.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	aad := envelope.ContextAAD(map[string]string{"SecretARN": "arn:x", "SecretVersionId": "v1"})
	blob := k.Seal([]byte("hunter2"), aad)
	if bytes.Contains(blob, []byte("hunter2")) {
		t.Fatal("plaintext visible in blob")
	}
	got, err := k.Open(blob, aad)
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Every single-byte flip, truncation and wrong aad must fail.
	for i := range blob {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		if _, err := k.Open(b, aad); !errors.Is(err, envelope.ErrOpen) {
			t.Fatalf("flip at %d: err = %v", i, err)
		}
	}
	for n := 0; n < len(blob); n++ {
		if _, err := k.Open(blob[:n], aad); !errors.Is(err, envelope.ErrOpen) {
			t.Fatalf("truncated to %d: err = %v", n, err)
		}
	}
	other := envelope.ContextAAD(map[string]string{"SecretARN": "arn:x", "SecretVersionId": "v2"})
	if _, err := k.Open(blob, other); !errors.Is(err, envelope.ErrOpen) {
		t.Fatalf("wrong aad: err = %v", err)
	}
	k2, _ := envelope.NewKey(envelope.NewDataKey())
	if _, err := k2.Open(blob, aad); !errors.Is(err, envelope.ErrOpen) {
		t.Fatalf("wrong key: err = %v", err)
	}
}

func TestKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := envelope.NewKey(make([]byte, n)); !errors.Is(err, envelope.ErrKeySize) {
			t.Errorf("NewKey(%d bytes) err = %v", n, err)
		}
	}
}

func TestContextAAD(t *testing.T) {
	a := envelope.ContextAAD(map[string]string{"b": "2", "a": "1"})
	b := envelope.ContextAAD(map[string]string{"a": "1", "b": "2"})
	if !bytes.Equal(a, b) {
		t.Fatal("map order changed the encoding")
	}
	// Length prefixes keep concatenation ambiguities apart.
	x := envelope.ContextAAD(map[string]string{"ab": "c"})
	y := envelope.ContextAAD(map[string]string{"a": "bc"})
	if bytes.Equal(x, y) {
		t.Fatal("ambiguous encoding")
	}
	if len(envelope.ContextAAD(nil)) != 0 {
		t.Fatal("empty context must encode empty")
	}
	p := envelope.AppendPairs(nil, "a", "1", "b", "2")
	if !bytes.Equal(a, p) {
		t.Fatal("AppendPairs differs from ContextAAD")
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := envelope.NewKey(bytes.Repeat([]byte{7}, 32))
	f.Add(k.Seal([]byte("value"), []byte("aad")), []byte("aad"))
	f.Add([]byte{1, 2, 3}, []byte(nil))
	f.Fuzz(func(t *testing.T, blob, aad []byte) {
		pt, err := k.Open(blob, aad)
		if err == nil && len(pt)+envelope.Overhead != len(blob) {
			t.Fatalf("opened blob of wrong size")
		}
	})
}

func BenchmarkSealOpen(b *testing.B) {
	k, _ := envelope.NewKey(envelope.NewDataKey())
	aad := envelope.AppendPairs(nil, "SecretARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "SecretVersionId", "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE")
	pt := bytes.Repeat([]byte("x"), 200)
	blob := k.Seal(pt, aad)
	b.Run("seal-200B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Seal(pt, aad)
		}
	})
	b.Run("open-200B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Open(blob, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("newkey+open-200B", func(b *testing.B) {
		raw := envelope.NewDataKey()
		blob := envelope.Must(envelope.Seal(raw, pt, aad))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := envelope.Open(raw, blob, aad); err != nil {
				b.Fatal(err)
			}
		}
	})
}
