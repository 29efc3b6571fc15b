package kms_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

func ctxOf(arn, version string) (map[string]string, []byte) {
	return map[string]string{"SecretARN": arn, "SecretVersionId": version},
		envelope.AppendPairs(nil, "SecretARN", arn, "SecretVersionId", version)
}

// opens reports whether aead opens what the raw data key pt sealed
// (the AEAD DataKeyAEAD returns is the data key DataKey made).
func opens(t *testing.T, aead *envelope.Key, pt []byte) bool {
	t.Helper()
	ref, err := envelope.NewKey(pt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := aead.Open(ref.Seal([]byte("msg"), []byte("aad")), []byte("aad"))
	return err == nil && bytes.Equal(got, []byte("msg"))
}

// TestDataKeyAEADChecksEveryTime checks that a data key served from the
// cache is refused at once when its KMS key is disabled or scheduled for
// deletion, and under another encryption context — as an uncached unwrap
// would be.
func TestDataKeyAEADChecksEveryTime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	mctx, enc := ctxOf("arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf", "v1")
	pt, blob, arn, err := f.svc.DataKey(ctx, k.ID, mctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // a miss, then hits
		aead, gotARN, err := f.svc.DataKeyAEAD(ctx, blob, enc)
		if err != nil || gotARN != arn || !opens(t, aead, pt) {
			t.Fatalf("DataKeyAEAD #%d = %v, %v", i, gotARN, err)
		}
	}
	// Another context: refused, cached or not.
	_, other := ctxOf("arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf", "v2")
	if _, _, err := f.svc.DataKeyAEAD(ctx, blob, other); !errors.Is(err, kms.ErrInvalidCiphertext) {
		t.Fatalf("DataKeyAEAD under another context: %v", err)
	}
	// Disabled: refused at once; enabled again: served.
	if err := f.svc.DisableKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	var ke *kms.Error
	if _, _, err := f.svc.DataKeyAEAD(ctx, blob, enc); !errors.As(err, &ke) || !errors.Is(err, kms.ErrDisabled) || ke.Op != kms.OpDecrypt {
		t.Fatalf("DataKeyAEAD on a disabled key: %#v", err)
	}
	if err := f.svc.EnableKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.DataKeyAEAD(ctx, blob, enc); err != nil {
		t.Fatalf("DataKeyAEAD after EnableKey: %v", err)
	}
	// Pending deletion: refused; purged: not found.
	if _, err := f.svc.ScheduleDeletion(ctx, k.ID, 7); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.DataKeyAEAD(ctx, blob, enc); !errors.Is(err, kms.ErrInvalidState) {
		t.Fatalf("DataKeyAEAD on a key pending deletion: %v", err)
	}
	f.clock.Add(8 * 24 * time.Hour)
	if _, d, err := f.svc.RunDue(ctx); d != 1 || err != nil {
		t.Fatalf("RunDue deleted %d, %v", d, err)
	}
	if _, _, err := f.svc.DataKeyAEAD(ctx, blob, enc); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("DataKeyAEAD on a purged key: %v", err)
	}
}

// TestDataKeyAEADCacheSizes runs the same reads with the cache off, tiny
// (constant eviction) and of the suggested size: the results never differ.
func TestDataKeyAEADCacheSizes(t *testing.T) {
	for _, size := range []int{0, 1, 2, kms.DefaultDataKeyCache} {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		root, err := keyring.NewRoot(envelope.NewDataKey())
		if err != nil {
			t.Fatal(err)
		}
		svc := kms.New(kms.Config{Store: db, Root: root, Region: region, Account: account, DataKeyCache: size})
		ctx := context.Background()
		type dk struct {
			pt, blob, enc []byte
		}
		var keys []dk
		for _, v := range []string{"v1", "v2", "v3", "v4", "v5"} {
			m, enc := ctxOf("arn:x", v)
			pt, blob, _, err := svc.DataKey(ctx, "", m)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, dk{pt, blob, enc})
		}
		for round := range 3 {
			for i, k := range keys {
				aead, _, err := svc.DataKeyAEAD(ctx, k.blob, k.enc)
				if err != nil || !opens(t, aead, k.pt) {
					t.Fatalf("cache size %d, round %d, key %d: %v", size, round, i, err)
				}
				// Another key's context never opens this one.
				if _, _, err := svc.DataKeyAEAD(ctx, k.blob, keys[(i+1)%len(keys)].enc); !errors.Is(err, kms.ErrInvalidCiphertext) {
					t.Fatalf("cache size %d: key %d under another context: %v", size, i, err)
				}
			}
		}
	}
}
