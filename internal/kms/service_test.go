package kms_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
	"github.com/coffer-dev/coffer/internal/kms"
	"github.com/coffer-dev/coffer/internal/sqlite"
)

const (
	region  = "us-east-1"
	account = "111122223333"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *kms.Service
	db    *sqlite.DB
	root  *keyring.Root
	clock *clock
	blobs map[string][]byte
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "coffer.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	root, err := keyring.NewRoot(envelope.NewDataKey())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &fixture{db: db, root: root, clock: c}
	f.svc = kms.New(kms.Config{Store: db, Root: root, Region: region, Account: account, Now: c.Now, DataKeyCache: kms.DefaultDataKeyCache})
	return f
}

func (f *fixture) key(t testing.TB) *kms.Key {
	t.Helper()
	k, err := f.svc.CreateKey(context.Background(), kms.CreateKeyInput{Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wantErr checks that err is a *kms.Error of kind with message msg ("*"
// = any message).
func wantErr(t *testing.T, err error, kind error, msg string) {
	t.Helper()
	var ke *kms.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error %v (%T), want *kms.Error of kind %v", err, err, kind)
	}
	if !errors.Is(ke, kind) {
		t.Fatalf("error kind %v (%q), want %v", ke.Kind, ke.Message, kind)
	}
	if msg != "*" && ke.Message != msg {
		t.Fatalf("message %q, want %q", ke.Message, msg)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	ec := map[string]string{"purpose": "test", "b": "2"}
	for _, ref := range []string{k.ID, k.ARN} {
		res, err := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: ref, Context: ec}, []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := kms.BlobKeyID(res.Blob); id != k.ID {
			t.Fatalf("blob names %s", id)
		}
		for _, dref := range []string{"", k.ID, k.ARN} {
			out, err := f.svc.Decrypt(ctx, kms.CryptoInput{KeyRef: dref, Context: map[string]string{"b": "2", "purpose": "test"}}, res.Blob)
			if err != nil || string(out.Plaintext) != "hello" || out.Key.ID != k.ID {
				t.Fatalf("Decrypt(%q) = %v, %v", dref, out, err)
			}
		}
		// Context enforced: missing, extra, changed, case.
		for _, bad := range []map[string]string{nil, {"purpose": "test"}, {"purpose": "test", "b": "2", "c": "3"}, {"purpose": "Test", "b": "2"}} {
			_, err := f.svc.Decrypt(ctx, kms.CryptoInput{Context: bad}, res.Blob)
			wantErr(t, err, kms.ErrInvalidCiphertext, "")
		}
	}
	// Aliases work for Encrypt.
	if err := f.svc.CreateAlias(ctx, "alias/app", k.ID); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"alias/app", f.svc.AliasARN("alias/app")} {
		if _, err := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: ref}, []byte("x")); err != nil {
			t.Fatalf("Encrypt(%s): %v", ref, err)
		}
	}
	// Decrypt with the wrong KeyId.
	other := f.key(t)
	res, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("x"))
	_, err := f.svc.Decrypt(ctx, kms.CryptoInput{KeyRef: other.ID}, res.Blob)
	wantErr(t, err, kms.ErrIncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
}

func TestTamperedAndTruncatedBlobsRejected(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	res, err := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("attack at dawn"))
	if err != nil {
		t.Fatal(err)
	}
	blob := res.Blob
	for i := range blob {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(blob)
			b[i] ^= bit
			if out, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, b); err == nil {
				t.Fatalf("byte %d bit %#x flipped: decrypted %q", i, bit, out.Plaintext)
			}
		}
	}
	for n := 0; n < len(blob); n++ {
		if _, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, blob[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: decrypted", n)
		}
	}
	if _, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, append(bytes.Clone(blob), 0)); err == nil {
		t.Fatal("extended blob decrypted")
	}
	_, err = f.svc.Decrypt(ctx, kms.CryptoInput{}, []byte("not a blob at all, but long enough to look like one......"))
	wantErr(t, err, kms.ErrInvalidCiphertext, "")
}

func TestReEncryptAcrossKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.key(t), f.key(t)
	res, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: a.ID, Context: map[string]string{"k": "a"}}, []byte("payload"))
	re, err := f.svc.ReEncrypt(ctx,
		kms.CryptoInput{Context: map[string]string{"k": "a"}},
		kms.CryptoInput{KeyRef: b.ARN, Context: map[string]string{"k": "b"}}, res.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if re.SourceKey.ID != a.ID || re.Key.ID != b.ID || re.Plaintext != nil {
		t.Fatalf("ReEncrypt result %+v", re)
	}
	out, err := f.svc.Decrypt(ctx, kms.CryptoInput{KeyRef: b.ID, Context: map[string]string{"k": "b"}}, re.Blob)
	if err != nil || string(out.Plaintext) != "payload" {
		t.Fatalf("decrypt re-encrypted: %v", err)
	}
	// Wrong source context, wrong source key.
	_, err = f.svc.ReEncrypt(ctx, kms.CryptoInput{}, kms.CryptoInput{KeyRef: b.ID}, res.Blob)
	wantErr(t, err, kms.ErrInvalidCiphertext, "")
	_, err = f.svc.ReEncrypt(ctx, kms.CryptoInput{KeyRef: b.ID, Context: map[string]string{"k": "a"}}, kms.CryptoInput{KeyRef: b.ID}, res.Blob)
	wantErr(t, err, kms.ErrIncorrectKey, "*")
	// Disabled destination.
	if err := f.svc.DisableKey(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ReEncrypt(ctx, kms.CryptoInput{Context: map[string]string{"k": "a"}}, kms.CryptoInput{KeyRef: b.ID}, res.Blob)
	wantErr(t, err, kms.ErrDisabled, b.ARN+" is disabled.")
}

func TestAutomaticRotationWithClock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	old, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("before rotation"))
	if err := f.svc.EnableRotation(ctx, k.ID, 90); err != nil {
		t.Fatal(err)
	}
	_, st, _ := f.svc.GetRotationStatus(ctx, k.ID)
	if !st.Enabled || st.PeriodDays != 90 || !st.Next.Equal(f.clock.Now().AddDate(0, 0, 90)) {
		t.Fatalf("status %+v", st)
	}
	// Not due yet.
	f.clock.Add(89 * 24 * time.Hour)
	if r, d, err := f.svc.RunDue(ctx); r+d != 0 || err != nil {
		t.Fatalf("RunDue early = %d, %d, %v", r, d, err)
	}
	f.clock.Add(2 * 24 * time.Hour)
	if r, d, err := f.svc.RunDue(ctx); r != 1 || d != 0 || err != nil {
		t.Fatalf("RunDue = %d, %d, %v", r, d, err)
	}
	k2, _ := f.svc.Describe(ctx, k.ID)
	if len(k2.Materials) != 2 || k2.Current().Rotation != kms.RotationAutomatic || k2.Current().ID == k.Current().ID {
		t.Fatalf("materials after rotation: %+v", k2.Materials)
	}
	if want := k.CreatedAt.AddDate(0, 0, 180); !k2.NextRotation.Equal(want) {
		t.Fatalf("next rotation %v, want %v", k2.NextRotation, want)
	}
	// Old ciphertext still decrypts; new ones use the new material.
	out, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, old.Blob)
	if err != nil || string(out.Plaintext) != "before rotation" || out.Material.ID != k.Current().ID {
		t.Fatalf("old ciphertext after rotation: %v", err)
	}
	nw, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("after"))
	if nw.Material.ID != k2.Current().ID {
		t.Fatal("new ciphertext not under the new material")
	}
	// A disabled key is not rotated; re-enabled overdue, it is at once.
	f.svc.DisableKey(ctx, k.ID)
	f.clock.Add(200 * 24 * time.Hour)
	if r, _, _ := f.svc.RunDue(ctx); r != 0 {
		t.Fatal("disabled key rotated")
	}
	f.svc.EnableKey(ctx, k.ID)
	if r, _, _ := f.svc.RunDue(ctx); r != 1 {
		t.Fatal("overdue key not rotated after EnableKey")
	}
	k3, _ := f.svc.Describe(ctx, k.ID)
	if want := f.clock.Now().AddDate(0, 0, 90); !k3.NextRotation.Equal(want) {
		t.Fatalf("next rotation after overdue rotation %v, want %v", k3.NextRotation, want)
	}
	// Every material still decrypts.
	for _, b := range [][]byte{old.Blob, nw.Blob} {
		if _, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, b); err != nil {
			t.Fatal(err)
		}
	}
	entries := listRotations(t, f, k.ID, false)
	if len(entries) != 2 || entries[0].Material.Rotation != kms.RotationAutomatic || !entries[1].Current {
		t.Fatalf("rotations %+v", entries)
	}
	if all := listRotations(t, f, k.ID, true); len(all) != 3 || all[0].Material.Rotation != "" {
		t.Fatalf("all materials %+v", all)
	}
}

func listRotations(t *testing.T, f *fixture, id string, all bool) []kms.RotationEntry {
	t.Helper()
	var out []kms.RotationEntry
	marker := ""
	for {
		_, e, next, err := f.svc.ListRotations(context.Background(), id, all, 1, marker)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e...)
		if next == "" {
			return out
		}
		marker = next
	}
}

func TestRotateOnDemand(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	old, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("x"))
	for i := 0; i < 25; i++ {
		if _, err := f.svc.RotateOnDemand(ctx, k.ARN); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	_, err := f.svc.RotateOnDemand(ctx, k.ID)
	wantErr(t, err, kms.ErrLimitExceeded, "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: "+k.ARN)
	if _, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, old.Blob); err != nil {
		t.Fatal(err)
	}
	// ConflictException when automatic rotation is due within 20 minutes.
	k2 := f.key(t)
	f.svc.EnableRotation(ctx, k2.ID, 90)
	f.clock.Add(90*24*time.Hour - 10*time.Minute)
	_, err = f.svc.RotateOnDemand(ctx, k2.ID)
	wantErr(t, err, kms.ErrConflict, "*")
}

func TestScheduleDeletionAndPurge(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	keep := f.key(t)
	f.svc.CreateAlias(ctx, "alias/doomed", k.ID)
	f.svc.CreateAlias(ctx, "alias/doomed2", k.ID)
	f.svc.CreateAlias(ctx, "alias/kept", keep.ID)
	for _, d := range []int{6, 31} {
		_, err := f.svc.ScheduleDeletion(ctx, k.ID, d)
		wantErr(t, err, kms.ErrValidation, "*")
	}
	got, err := f.svc.ScheduleDeletion(ctx, k.ID, 7)
	if err != nil || got.State != kms.StatePendingDeletion || !got.DeletionDate.Equal(f.clock.Now().AddDate(0, 0, 7)) {
		t.Fatalf("ScheduleDeletion = %+v, %v", got, err)
	}
	_, err = f.svc.ScheduleDeletion(ctx, k.ID, 7)
	wantErr(t, err, kms.ErrInvalidState, k.ARN+" is pending deletion.")
	f.clock.Add(7*24*time.Hour - time.Second)
	if _, d, _ := f.svc.RunDue(ctx); d != 0 {
		t.Fatal("deleted before the date")
	}
	f.clock.Add(2 * time.Second)
	if _, d, err := f.svc.RunDue(ctx); d != 1 || err != nil {
		t.Fatalf("RunDue deleted %d, %v", d, err)
	}
	_, err = f.svc.Describe(ctx, k.ID)
	wantErr(t, err, kms.ErrNotFound, "Key '"+k.ARN+"' does not exist")
	aliases, _, _ := f.svc.ListAliases(ctx, "", 0, "")
	var names []string
	for _, a := range aliases {
		names = append(names, a.Name)
	}
	if want := []string{"alias/aws/secretsmanager", "alias/kept"}; !equal(names, want) {
		t.Fatalf("aliases after purge %v, want %v", names, want)
	}
	// Cancel → Disabled.
	k2 := f.key(t)
	f.svc.ScheduleDeletion(ctx, k2.ID, 0)
	c, err := f.svc.CancelDeletion(ctx, k2.ID)
	if err != nil || c.State != kms.StateDisabled || !c.DeletionDate.IsZero() {
		t.Fatalf("CancelDeletion = %+v, %v", c, err)
	}
	_, err = f.svc.CancelDeletion(ctx, k2.ID)
	wantErr(t, err, kms.ErrInvalidState, k2.ARN+" is not pending deletion.")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeyStates checks each operation in each key state (spec §5.2).
func TestKeyStates(t *testing.T) {
	ctx := kms.WithCaller(context.Background(), "arn:aws:iam::"+account+":root")
	type op struct {
		name string
		run  func(f *fixture, k *kms.Key) error
	}
	blobOf := func(f *fixture, k *kms.Key) []byte {
		// made while the key was enabled (see below)
		return f.blobs[k.ID]
	}
	ops := []op{
		{"Encrypt", func(f *fixture, k *kms.Key) error {
			_, err := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("x"))
			return err
		}},
		{"Decrypt", func(f *fixture, k *kms.Key) error {
			_, err := f.svc.Decrypt(ctx, kms.CryptoInput{}, blobOf(f, k))
			return err
		}},
		{"GenerateDataKey", func(f *fixture, k *kms.Key) error {
			_, err := f.svc.GenerateDataKey(ctx, kms.CryptoInput{KeyRef: k.ID}, 32, true)
			return err
		}},
		{"ReEncrypt", func(f *fixture, k *kms.Key) error {
			_, err := f.svc.ReEncrypt(ctx, kms.CryptoInput{}, kms.CryptoInput{KeyRef: k.ID}, blobOf(f, k))
			return err
		}},
		{"EnableKeyRotation", func(f *fixture, k *kms.Key) error { return f.svc.EnableRotation(ctx, k.ID, 0) }},
		{"DisableKeyRotation", func(f *fixture, k *kms.Key) error { return f.svc.DisableRotation(ctx, k.ID) }},
		{"RotateKeyOnDemand", func(f *fixture, k *kms.Key) error { _, err := f.svc.RotateOnDemand(ctx, k.ID); return err }},
		{"EnableKey", func(f *fixture, k *kms.Key) error { return f.svc.EnableKey(ctx, k.ID) }},
		{"DisableKey", func(f *fixture, k *kms.Key) error { return f.svc.DisableKey(ctx, k.ID) }},
		{"TagResource", func(f *fixture, k *kms.Key) error { return f.svc.Tag(ctx, k.ID, []kms.Tag{{Key: "a", Value: "b"}}) }},
		{"UntagResource", func(f *fixture, k *kms.Key) error { return f.svc.Untag(ctx, k.ID, []string{"a"}) }},
		{"UpdateKeyDescription", func(f *fixture, k *kms.Key) error { return f.svc.UpdateDescription(ctx, k.ID, "d") }},
		{"CreateAlias", func(f *fixture, k *kms.Key) error { return f.svc.CreateAlias(ctx, "alias/x-"+k.ID, k.ID) }},
		{"DescribeKey", func(f *fixture, k *kms.Key) error { _, err := f.svc.Describe(ctx, k.ID); return err }},
		{"GetKeyPolicy", func(f *fixture, k *kms.Key) error { _, err := f.svc.GetPolicy(ctx, k.ID, ""); return err }},
		{"PutKeyPolicy", func(f *fixture, k *kms.Key) error {
			return f.svc.PutPolicy(ctx, k.ID, "default", `{"Version":"2012-10-17","Statement":[]}`)
		}},
		{"GetKeyRotationStatus", func(f *fixture, k *kms.Key) error { _, _, err := f.svc.GetRotationStatus(ctx, k.ID); return err }},
		{"ListResourceTags", func(f *fixture, k *kms.Key) error { _, _, err := f.svc.ListTags(ctx, k.ID, 0, ""); return err }},
		{"ScheduleKeyDeletion", func(f *fixture, k *kms.Key) error { _, err := f.svc.ScheduleDeletion(ctx, k.ID, 0); return err }},
	}
	// Expected error per state: "" = OK, "disabled", "pending".
	want := map[string][2]string{ // [Disabled, PendingDeletion]
		"Encrypt": {"disabled", "pending"}, "Decrypt": {"disabled", "pending"},
		"GenerateDataKey": {"disabled", "pending"}, "ReEncrypt": {"disabled", "pending"},
		"EnableKeyRotation": {"disabled", "pending"}, "DisableKeyRotation": {"disabled", "pending"},
		"RotateKeyOnDemand": {"disabled", "pending"},
		"EnableKey":         {"", "pending"}, "DisableKey": {"", "pending"},
		"TagResource": {"", "pending"}, "UntagResource": {"", "pending"},
		"UpdateKeyDescription": {"", "pending"}, "CreateAlias": {"", "pending"},
		"DescribeKey": {"", ""}, "GetKeyPolicy": {"", ""}, "PutKeyPolicy": {"", ""},
		"GetKeyRotationStatus": {"", ""}, "ListResourceTags": {"", ""},
		"ScheduleKeyDeletion": {"", "pending"},
	}
	for _, o := range ops {
		for si, state := range []kms.State{kms.StateDisabled, kms.StatePendingDeletion} {
			t.Run(o.name+"/"+string(state), func(t *testing.T) {
				f := newFixture(t)
				f.blobs = map[string][]byte{}
				k := f.key(t)
				res, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("x"))
				f.blobs[k.ID] = res.Blob
				if state == kms.StateDisabled {
					f.svc.DisableKey(ctx, k.ID)
				} else {
					f.svc.ScheduleDeletion(ctx, k.ID, 7)
				}
				err := o.run(f, k)
				switch want[o.name][si] {
				case "":
					if err != nil {
						t.Fatalf("error %v, want success", err)
					}
				case "disabled":
					wantErr(t, err, kms.ErrDisabled, k.ARN+" is disabled.")
				case "pending":
					wantErr(t, err, kms.ErrInvalidState, k.ARN+" is pending deletion.")
				}
			})
		}
	}
}

func TestAWSManagedKeyIsNotTheUsers(t *testing.T) {
	f := newFixture(t)
	caller := "arn:aws:iam::" + account + ":root"
	ctx := kms.WithCaller(context.Background(), caller)
	k, err := f.svc.Describe(ctx, kms.SecretsManagerAlias)
	if err != nil || k.Manager != kms.ManagerAWS {
		t.Fatalf("Describe(alias/aws/secretsmanager) = %+v, %v", k, err)
	}
	if _, st, _ := f.svc.GetRotationStatus(ctx, k.ID); !st.Enabled || st.PeriodDays != 365 {
		t.Fatalf("AWS managed key rotation status %+v", st)
	}
	denied := func(action string) string {
		return "User: " + caller + " is not authorized to perform: kms:" + action + " on resource: " + k.ARN + " because no resource-based policy allows the kms:" + action + " action"
	}
	for action, run := range map[string]func() error{
		"DisableKey":          func() error { return f.svc.DisableKey(ctx, k.ID) },
		"EnableKey":           func() error { return f.svc.EnableKey(ctx, k.ID) },
		"ScheduleKeyDeletion": func() error { _, err := f.svc.ScheduleDeletion(ctx, k.ID, 7); return err },
		"CancelKeyDeletion":   func() error { _, err := f.svc.CancelDeletion(ctx, k.ID); return err },
		"PutKeyPolicy":        func() error { return f.svc.PutPolicy(ctx, k.ID, "", `{"Statement":[]}`) },
		"TagResource":         func() error { return f.svc.Tag(ctx, k.ID, []kms.Tag{{Key: "a"}}) },
		"UntagResource":       func() error { return f.svc.Untag(ctx, k.ID, []string{"a"}) },
		"RotateKeyOnDemand":   func() error { _, err := f.svc.RotateOnDemand(ctx, k.ID); return err },
		"EnableKeyRotation":   func() error { return f.svc.EnableRotation(ctx, k.ID, 90) },
		"DisableKeyRotation":  func() error { return f.svc.DisableRotation(ctx, k.ID) },
		"UpdateKeyDescription": func() error {
			return f.svc.UpdateDescription(ctx, k.ID, "mine")
		},
		"CreateAlias": func() error { return f.svc.CreateAlias(ctx, "alias/mine", k.ID) },
		"Encrypt": func() error {
			_, err := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: kms.SecretsManagerAlias}, []byte("x"))
			return err
		},
	} {
		wantErr(t, run(), kms.ErrAccessDenied, denied(action))
	}
	// Reserved alias names.
	other := f.key(t)
	for _, run := range []func() error{
		func() error { return f.svc.CreateAlias(ctx, "alias/aws/mine", other.ID) },
		func() error { return f.svc.UpdateAlias(ctx, kms.SecretsManagerAlias, other.ID) },
		func() error { return f.svc.DeleteAlias(ctx, kms.SecretsManagerAlias) },
	} {
		wantErr(t, run(), kms.ErrNotAuthorized, "")
	}
	// Secrets Manager can use it (DataKeys).
	pt, blob, arn, err := f.svc.DataKey(ctx, "", map[string]string{"SecretARN": "a"})
	if err != nil || arn != k.ARN {
		t.Fatalf("DataKey = %v, %v", arn, err)
	}
	pt2, _, err := f.svc.DecryptDataKey(ctx, blob, map[string]string{"SecretARN": "a"})
	if err != nil || !bytes.Equal(pt, pt2) {
		t.Fatalf("DecryptDataKey: %v", err)
	}
}

func TestDataKeyErrorsCarryTheOperation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	_, blob, _, err := f.svc.DataKey(ctx, k.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.svc.DisableKey(ctx, k.ID)
	var ke *kms.Error
	_, _, _, err = f.svc.DataKey(ctx, k.ARN, nil)
	if !errors.As(err, &ke) || ke.Op != kms.OpGenerateDataKey || !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("DataKey on a disabled key: %#v", err)
	}
	_, _, err = f.svc.DecryptDataKey(ctx, blob, nil)
	if !errors.As(err, &ke) || ke.Op != kms.OpDecrypt || !errors.Is(err, kms.ErrDisabled) {
		t.Fatalf("DecryptDataKey on a disabled key: %#v", err)
	}
	_, _, _, err = f.svc.DataKey(ctx, "not-a-key", nil)
	if !errors.Is(err, kms.ErrMalformedKeyID) || !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("DataKey(not-a-key): %v", err)
	}
}

func TestCreateKeyRefusesWhatItCannotDo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, in := range []kms.CreateKeyInput{
		{KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT"},
		{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"},
		{CustomerMasterKeySpec: "ECC_NIST_P256"},
		{KeyUsage: "SIGN_VERIFY"},
		{Origin: "EXTERNAL"},
		{MultiRegion: true},
		{CustomKeyStoreID: "cks-1"},
	} {
		_, err := f.svc.CreateKey(ctx, in)
		wantErr(t, err, kms.ErrUnsupported, "*")
	}
	_, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{Tags: []kms.Tag{{Key: "a"}, {Key: "a"}}})
	wantErr(t, err, kms.ErrTag, "Duplicate tag keys")
	_, err = f.svc.CreateKey(ctx, kms.CreateKeyInput{Tags: []kms.Tag{{Key: "AWS:x"}}})
	wantErr(t, err, kms.ErrTag, "Tags beginning with aws: are reserved")
	many := make([]kms.Tag, 51)
	for i := range many {
		many[i] = kms.Tag{Key: string(rune('a'+i%26)) + string(rune('a'+i/26))}
	}
	_, err = f.svc.CreateKey(ctx, kms.CreateKeyInput{Tags: many})
	wantErr(t, err, kms.ErrTag, "Too many tags")
	_, err = f.svc.CreateKey(ctx, kms.CreateKeyInput{Policy: "{not json"})
	wantErr(t, err, kms.ErrMalformedPolicy, "*")
}

func TestListPagination(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ {
		k := f.key(t)
		ids = append(ids, k.ID)
		f.svc.CreateAlias(ctx, "alias/a"+string(rune('0'+i)), k.ID)
	}
	seen := map[string]bool{}
	marker := ""
	for pages := 0; ; pages++ {
		keys, next, err := f.svc.ListKeys(ctx, 2, marker)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			seen[k.ID] = true
		}
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
		marker = next
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d keys", len(seen))
	}
	_, _, err := f.svc.ListKeys(ctx, 2, "garbage!")
	wantErr(t, err, kms.ErrInvalidMarker, "*")
	_, next, _ := f.svc.ListAliases(ctx, "", 2, "")
	_, _, err = f.svc.ListKeys(ctx, 2, next) // a marker of another list
	wantErr(t, err, kms.ErrInvalidMarker, "*")
	var names []string
	marker = ""
	for {
		as, next, err := f.svc.ListAliases(ctx, "", 2, marker)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			names = append(names, a.Name)
		}
		if next == "" {
			break
		}
		marker = next
	}
	if want := []string{"alias/a0", "alias/a1", "alias/a2", "alias/a3", "alias/a4", "alias/aws/secretsmanager"}; !equal(names, want) {
		t.Fatalf("aliases %v", names)
	}
	as, _, err := f.svc.ListAliases(ctx, ids[3], 0, "")
	if err != nil || len(as) != 1 || as[0].Name != "alias/a3" {
		t.Fatalf("ListAliases(KeyId) = %v, %v", as, err)
	}
}

func TestRewrapKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.key(t)
	f.svc.RotateOnDemand(ctx, k.ID)
	res, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("x"))
	old, _ := f.svc.Encrypt(ctx, kms.CryptoInput{KeyRef: k.ID}, []byte("y"))
	next, _ := keyring.NewRoot(envelope.NewDataKey())
	n, err := f.svc.RewrapKeys(ctx, next, nil)
	if err != nil || n != 2 {
		t.Fatalf("RewrapKeys = %d, %v", n, err)
	}
	fresh := kms.New(kms.Config{Store: f.db, Root: next, Region: region, Account: account})
	for _, b := range [][]byte{res.Blob, old.Blob} {
		if _, err := fresh.Decrypt(ctx, kms.CryptoInput{}, b); err != nil {
			t.Fatalf("decrypt under the new root key: %v", err)
		}
	}
	stale := kms.New(kms.Config{Store: f.db, Root: f.root, Region: region, Account: account})
	if _, err := stale.Decrypt(ctx, kms.CryptoInput{}, res.Blob); !errors.Is(err, keyring.ErrWrongRootKey) {
		t.Fatalf("old root key after rewrap: %v", err)
	}
	k2, _ := fresh.Describe(ctx, k.ID)
	for _, m := range k2.Materials {
		if m.RootKeyID != next.ID() {
			t.Fatalf("material %d root key id %s", m.Seq, m.RootKeyID)
		}
	}
}
