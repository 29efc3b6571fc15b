package kms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
	"github.com/coffer-dev/coffer/internal/keyring"
)

// SecretsManagerAlias is the alias of the AWS managed key Secrets Manager
// uses when a secret names no key.
const SecretsManagerAlias = "alias/aws/secretsmanager"

const (
	materialPurpose = "kms-material"
	// blob format: version(1) || key uuid(16) || material seq(4) || envelope blob
	blobVersion   = 0x01
	blobHeaderLen = 1 + 16 + 4
	// MaxBlobLen is the largest ciphertext blob KMS accepts (6144 bytes).
	MaxBlobLen = 6144
)

// Service implements KMS operations over a Store.
type Service struct {
	store   Store
	root    *keyring.Root
	region  string
	account string
	now     func() time.Time

	// materials caches ready AEADs by material id. Material is immutable,
	// so entries never go stale; the key's state is checked on every use.
	materials sync.Map // string → *envelope.Key
	// dataKeys caches ready data-key AEADs (datakeys.go).
	dataKeys dataKeyCache
}

// Config configures a Service.
type Config struct {
	Store   Store
	Root    *keyring.Root
	Region  string
	Account string
	Now     func() time.Time // defaults to time.Now
	// DataKeyCache is the number of ready data-key AEADs DataKeyAEAD keeps
	// per generation (datakeys.go). 0, the default, turns the cache off:
	// every plaintext data key then lives for one request only.
	DataKeyCache int
}

// New returns a Service.
func New(c Config) *Service {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	s := &Service{store: c.Store, root: c.Root, region: c.Region, account: c.Account, now: now}
	if c.DataKeyCache > 0 {
		s.dataKeys.init(c.DataKeyCache)
	}
	return s
}

// Region and Account identify where the service's keys live.
func (s *Service) Region() string  { return s.region }
func (s *Service) Account() string { return s.account }

// KeyARN returns the ARN of key id in this service's account and region.
func (s *Service) KeyARN(id string) string {
	return "arn:aws:kms:" + s.region + ":" + s.account + ":key/" + id
}

// AliasARN returns the ARN of an alias (alias/…).
func (s *Service) AliasARN(name string) string {
	return "arn:aws:kms:" + s.region + ":" + s.account + ":" + name
}

// isUUID reports whether s is a key id: a lower-case UUID
// (8-4-4-4-12 hex digits).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// Ref is a parsed key reference: exactly one of KeyID and Alias is set.
type Ref struct {
	KeyID string
	Alias string
}

// ParseRef parses a key id, key ARN, alias name or alias ARN.
// allowAlias=false restricts it to key ids and key ARNs (CreateAlias's
// TargetKeyId, EnableKey, …).
func (s *Service) ParseRef(ref string, allowAlias bool) (Ref, error) {
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return Ref{}, errf(ErrNotFound, "Invalid arn")
		}
		if parts[3] != s.region {
			return Ref{}, errf(ErrNotFound, "Invalid arn %s", parts[3])
		}
		if parts[4] != s.account {
			return Ref{}, errf(ErrNotFound, "Invalid arn %s", parts[4])
		}
		res := parts[5]
		switch {
		case strings.HasPrefix(res, "key/"):
			id := strings.TrimPrefix(res, "key/")
			if !isUUID(id) {
				return Ref{}, errf(ErrMalformedKeyID, "Invalid keyId '%s'", id)
			}
			return Ref{KeyID: id}, nil
		case strings.HasPrefix(res, "alias/") && allowAlias:
			return Ref{Alias: res}, nil
		}
		return Ref{}, errf(ErrMalformedKeyID, "Invalid arn")
	}
	if strings.HasPrefix(ref, "alias/") {
		if !allowAlias {
			return Ref{}, errf(ErrMalformedKeyID, "Invalid keyId '%s'", ref)
		}
		return Ref{Alias: ref}, nil
	}
	if !isUUID(ref) {
		return Ref{}, errf(ErrMalformedKeyID, "Invalid keyId '%s'", ref)
	}
	return Ref{KeyID: ref}, nil
}

// Resolve returns the key a reference names. Predefined AWS aliases that
// have no key yet (alias/aws/secretsmanager) are created on first use, as
// AWS does.
func (s *Service) Resolve(ctx context.Context, ref string, allowAlias bool) (*Key, error) {
	r, err := s.ParseRef(ref, allowAlias)
	if err != nil {
		return nil, err
	}
	return s.resolve(ctx, r)
}

func (s *Service) resolve(ctx context.Context, r Ref) (*Key, error) {
	id := r.KeyID
	if r.Alias != "" {
		a, err := s.store.Alias(ctx, r.Alias)
		switch {
		case errors.Is(err, ErrNoSuchAlias) && r.Alias == SecretsManagerAlias:
			return s.awsManagedKey(ctx, r.Alias)
		case errors.Is(err, ErrNoSuchAlias):
			return nil, errf(ErrNotFound, "Alias %s is not found.", s.AliasARN(r.Alias))
		case err != nil:
			return nil, err
		}
		id = a.TargetKeyID
	}
	k, err := s.store.Key(ctx, id)
	if errors.Is(err, ErrNoSuchKey) {
		return nil, errf(ErrNotFound, "Key '%s' does not exist", s.KeyARN(id))
	}
	return k, err
}

// awsManagedKey creates (once) the AWS managed key behind a predefined alias.
func (s *Service) awsManagedKey(ctx context.Context, alias string) (*Key, error) {
	var out *Key
	err := s.store.Atomic(ctx, func(ctx context.Context) error {
		return s.store.UpdateAlias(ctx, alias, func(cur *Alias) (*Alias, error) {
			if cur != nil { // another request created it first
				k, err := s.store.Key(ctx, cur.TargetKeyID)
				out = k
				return cur, err
			}
			k, err := s.newKey(ManagerAWS, "Default key that protects my Secrets Manager secrets when no other key is defined", "", nil)
			if err != nil {
				return nil, err
			}
			k.Policy = s.awsManagedPolicy("secretsmanager")
			// KMS rotates AWS managed keys every year (model,
			// EnableKeyRotation); GetKeyRotationStatus shows it on.
			k.RotationEnabled = true
			k.RotationPeriodDays = defaultRotationDays
			k.NextRotation = k.CreatedAt.AddDate(0, 0, defaultRotationDays)
			if err := s.store.UpdateKey(ctx, k.ID, func(*Key) (*Key, error) { return k, nil }); err != nil {
				return nil, err
			}
			out = k
			now := s.now().UTC()
			return &Alias{Name: alias, TargetKeyID: k.ID, CreatedAt: now, UpdatedAt: now}, nil
		})
	})
	return out, err
}

// newKey builds a new symmetric key with fresh material (not yet stored).
func (s *Service) newKey(m Manager, description, policy string, tags []Tag) (*Key, error) {
	id := newUUID()
	now := s.now().UTC()
	k := &Key{
		ID: id, ARN: s.KeyARN(id), Account: s.account, Description: description,
		State: StateEnabled, Manager: m, Origin: "AWS_KMS", Spec: "SYMMETRIC_DEFAULT",
		Usage: "ENCRYPT_DECRYPT", CreatedAt: now, Policy: policy, Tags: tags,
	}
	if k.Policy == "" {
		k.Policy = s.defaultPolicy()
	}
	k.Materials = []Material{s.newMaterial(id, 1, now, "")}
	return k, nil
}

func (s *Service) newMaterial(keyID string, seq uint32, now time.Time, rotation string) Material {
	raw := envelope.NewDataKey()
	defer envelope.Zero(raw)
	var idb [32]byte
	rand.Read(idb[:])
	return Material{
		Seq:       seq,
		ID:        hex.EncodeToString(idb[:]),
		Wrapped:   s.root.Wrap(materialPurpose, materialAAD(keyID, seq), raw),
		RootKeyID: s.root.ID(),
		CreatedAt: now,
		Rotation:  rotation,
	}
}

func materialAAD(keyID string, seq uint32) string { return fmt.Sprintf("%s/%d", keyID, seq) }

// defaultPolicy is the key policy AWS gives a key created without one.
func (s *Service) defaultPolicy() string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + s.account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

// awsManagedPolicy is the policy of an AWS managed key for service svc: use
// only through that service, by principals of this account.
func (s *Service) awsManagedPolicy(svc string) string {
	return `{"Version":"2012-10-17","Id":"auto-` + svc + `-2","Statement":[` +
		`{"Sid":"Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"` + svc + `.` + s.region + `.amazonaws.com","kms:CallerAccount":"` + s.account + `"}}},` +
		`{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + s.account + `:root"},"Action":["kms:Describe*","kms:Get*","kms:List*","kms:RevokeGrant"],"Resource":"*"}]}`
}

// symmetric checks that a key is a symmetric encryption key; Secrets
// Manager and the symmetric cryptographic operations accept no other.
func symmetric(k *Key, op string) error {
	if k.Spec != "SYMMETRIC_DEFAULT" || k.Usage != "ENCRYPT_DECRYPT" {
		if op == "GenerateDataKey" {
			return errf(ErrInvalidKeyUsage, "Cannot generate a data key with an asymmetric KMS key")
		}
		return errf(ErrInvalidKeyUsage, "%s key usage is %s which is not valid for %s.", k.ARN, k.Usage, op)
	}
	return nil
}

// usable checks that a key can be used for cryptographic operations.
func usable(k *Key) error {
	switch k.State {
	case StateEnabled:
		return nil
	case StateDisabled:
		return errDisabled(k.ARN)
	case StatePendingDeletion:
		return errPendingDelete(k.ARN)
	}
	return errf(ErrInvalidState, "%s is %s.", k.ARN, k.State)
}

// materialKey returns the ready AEAD of a key's material.
func (s *Service) materialKey(k *Key, m *Material) (*envelope.Key, error) {
	if v, ok := s.materials.Load(m.ID); ok {
		return v.(*envelope.Key), nil
	}
	raw, err := s.root.Unwrap(materialPurpose, materialAAD(k.ID, m.Seq), m.Wrapped)
	if err != nil {
		return nil, err
	}
	defer envelope.Zero(raw)
	ek, err := envelope.NewKey(raw)
	if err != nil {
		return nil, err
	}
	v, _ := s.materials.LoadOrStore(m.ID, ek)
	return v.(*envelope.Key), nil
}

// seal encrypts pt under the key's current material, binding encCtx.
func (s *Service) seal(k *Key, pt []byte, encCtx map[string]string) ([]byte, error) {
	m := k.Current()
	if m == nil {
		return nil, errf(ErrInternal, "key %s has no key material", k.ARN)
	}
	ek, err := s.materialKey(k, m)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, blobHeaderLen, blobHeaderLen+envelope.Overhead+len(pt))
	hdr[0] = blobVersion
	putUUID(hdr[1:17], k.ID)
	binary.BigEndian.PutUint32(hdr[17:21], m.Seq)
	aad := envelope.AppendContext(hdr[:blobHeaderLen:blobHeaderLen], encCtx)
	return ek.SealAppend(hdr, pt, aad), nil
}

// BlobKeyID returns the key id a ciphertext blob names, or an error for
// anything that is not a Coffer KMS blob.
func BlobKeyID(blob []byte) (string, error) {
	if len(blob) < blobHeaderLen+envelope.Overhead || blob[0] != blobVersion {
		return "", errInvalidCiphertext
	}
	return formatUUID(blob[1:17]), nil
}

// open decrypts a blob. It resolves the key from the blob, checks its
// state and, when want is not empty, that it is the key the caller named.
func (s *Service) open(ctx context.Context, blob []byte, encCtx map[string]string, want *Key) (pt []byte, k *Key, m *Material, err error) {
	var buf [256]byte
	return s.openEncoded(ctx, blob, envelope.AppendContext(buf[:0], encCtx), want)
}

// openEncoded is open with the encryption context in its canonical
// encoding (envelope.AppendContext, AppendPairs).
func (s *Service) openEncoded(ctx context.Context, blob, encCtx []byte, want *Key) (pt []byte, k *Key, m *Material, err error) {
	id, err := BlobKeyID(blob)
	if err != nil {
		return nil, nil, nil, err
	}
	if want != nil && want.ID != id {
		return nil, nil, nil, errIncorrectKey
	}
	k, m, err = s.blobKey(ctx, id, blobSeq(blob), want)
	if err != nil {
		return nil, nil, nil, err
	}
	ek, err := s.materialKey(k, m)
	if err != nil {
		return nil, nil, nil, err
	}
	var buf [256]byte
	aad := append(append(buf[:0], blob[:blobHeaderLen]...), encCtx...)
	pt, err = ek.Open(blob[blobHeaderLen:], aad)
	if err != nil {
		return nil, nil, nil, errInvalidCiphertext
	}
	return pt, k, m, nil
}

// blobKey returns the key a blob names (want, if not nil, is that key,
// already resolved) and the material it names, checking that the key
// exists and is usable and that the material exists.
func (s *Service) blobKey(ctx context.Context, id string, seq uint32, want *Key) (*Key, *Material, error) {
	k := want
	if k == nil {
		var err error
		k, err = s.store.Key(ctx, id)
		if errors.Is(err, ErrNoSuchKey) {
			// The blob is well formed and names a key that does not
			// exist (any more): say so, as for any other key reference.
			return nil, nil, errf(ErrNotFound, "Key '%s' does not exist", s.KeyARN(id))
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := usable(k); err != nil {
		return nil, nil, err
	}
	m := k.Material(seq)
	if m == nil {
		return nil, nil, errInvalidCiphertext
	}
	return k, m, nil
}

// DataKey generates a fresh 32-byte data key and wraps it under the key ref
// names ("" = the Secrets Manager default key). It satisfies
// secrets.DataKeys. The caller zeroes plaintext after use.
func (s *Service) DataKey(ctx context.Context, ref string, encCtx map[string]string) (plaintext, wrapped []byte, keyARN string, err error) {
	if ref == "" {
		ref = SecretsManagerAlias
	}
	k, err := s.Resolve(ctx, ref, true)
	if err != nil {
		return nil, nil, "", during(OpGenerateDataKey, err)
	}
	if err := usable(k); err != nil {
		return nil, nil, "", during(OpGenerateDataKey, err)
	}
	if err := symmetric(k, "GenerateDataKey"); err != nil {
		return nil, nil, "", during(OpGenerateDataKey, err)
	}
	pt := envelope.NewDataKey()
	blob, err := s.seal(k, pt, encCtx)
	if err != nil {
		envelope.Zero(pt)
		return nil, nil, "", during(OpGenerateDataKey, err)
	}
	return pt, blob, k.ARN, nil
}

// DecryptDataKey unwraps a data key made by DataKey. It satisfies
// secrets.DataKeys.
func (s *Service) DecryptDataKey(ctx context.Context, wrapped []byte, encCtx map[string]string) (plaintext []byte, keyARN string, err error) {
	pt, k, _, err := s.open(ctx, wrapped, encCtx, nil)
	if err != nil {
		return nil, "", during(OpDecrypt, err)
	}
	return pt, k.ARN, nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b[:])
}

func formatUUID(b []byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

func putUUID(dst []byte, id string) {
	hex.Decode(dst[0:4], []byte(id[0:8]))
	hex.Decode(dst[4:6], []byte(id[9:13]))
	hex.Decode(dst[6:8], []byte(id[14:18]))
	hex.Decode(dst[8:10], []byte(id[19:23]))
	hex.Decode(dst[10:16], []byte(id[24:36]))
}

// IsAWSManagedKeyARN reports whether arn is the Secrets Manager default key
// (the key behind alias/aws/secretsmanager).
func (s *Service) IsAWSManagedKeyARN(ctx context.Context, arn string) bool {
	a, err := s.store.Alias(ctx, SecretsManagerAlias)
	return err == nil && s.KeyARN(a.TargetKeyID) == arn
}
