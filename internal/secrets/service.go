package secrets

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/coffer-dev/coffer/internal/envelope"
)

const (
	// MaxVersions is how many versions a secret keeps before Secrets
	// Manager removes deprecated (unlabelled) ones.
	MaxVersions = 100
	// MinVersionAge is the age below which a deprecated version is never
	// removed.
	MinVersionAge = 24 * time.Hour
	// MaxLabels is the number of staging labels a secret may carry across
	// all its versions.
	MaxLabels = 20
	// DefaultRecoveryWindowDays is DeleteSecret's default window.
	DefaultRecoveryWindowDays = 30
)

// Service implements Secrets Manager operations over a Store.
type Service struct {
	store     Store
	keys      DataKeys
	region    string
	account   string
	partition string
	now       func() time.Time
	log       *slog.Logger
}

// Config configures a Service.
type Config struct {
	Store   Store
	Keys    DataKeys
	Region  string
	Account string
	Now     func() time.Time // defaults to time.Now
	Log     *slog.Logger     // defaults to slog.Default()
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, keys: c.Keys, region: c.Region, account: c.Account, partition: "aws", now: c.Now, log: c.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Region and Account identify where the service's secrets live.
func (s *Service) Region() string  { return s.region }
func (s *Service) Account() string { return s.account }

// timestamp returns the current time at the precision the API shows.
func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func today(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// arnPrefix is "arn:aws:secretsmanager:<region>:<account>:secret:".
func (s *Service) arnPrefix() string {
	return "arn:" + s.partition + ":secretsmanager:" + s.region + ":" + s.account + ":secret:"
}

// ARNPattern returns the ARN a secret named name would have, with the
// random suffix replaced by "??????" — what authorization uses for a secret
// that does not exist (yet).
func (s *Service) ARNPattern(name string) string { return s.arnPrefix() + name + "-??????" }

const suffixAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (s *Service) newARN(name string) string {
	var b [6]byte
	for i := range b {
		b[i] = suffixAlphabet[randIntn(len(suffixAlphabet))]
	}
	return s.arnPrefix() + name + "-" + string(b[:])
}

// randIntn returns a uniform random int in [0, n) from crypto/rand.
func randIntn(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

func notFound() *Error { return errorf(ErrNotFound, msgNotFound) }

func markedForDeletion() *Error { return errorf(ErrInvalidRequest, msgMarkedDelete) }

// hasSuffix reports whether rest ends in "-" and six alphanumerics — what
// makes a SecretId look like a complete ARN.
func hasSuffix(rest string) bool {
	if len(rest) < 7 || rest[len(rest)-7] != '-' {
		return false
	}
	for _, c := range rest[len(rest)-6:] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// Lookup resolves a SecretId — a name, a full ARN or a partial ARN (an ARN
// without the random suffix) — to a secret, including one that is
// scheduled for deletion.
func (s *Service) Lookup(ctx context.Context, id string) (*Secret, error) {
	name, arn, err := s.ParseID(id)
	if err != nil {
		return nil, err
	}
	var sec *Secret
	if arn != "" {
		sec, err = s.store.SecretByARN(ctx, arn)
	} else {
		sec, err = s.store.SecretByName(ctx, name)
	}
	if errors.Is(err, ErrNoSuchSecret) {
		return nil, notFound()
	}
	return sec, err
}

// ParseID classifies a SecretId: a complete ARN (arn set), or a name or
// partial ARN (name set). Invalid names get AWS's ValidationException; ARNs
// of another region or account are not found here.
func (s *Service) ParseID(id string) (name, arn string, err error) {
	if rest, ok := strings.CutPrefix(id, "arn:"); ok {
		prefix := s.arnPrefix()
		if !strings.HasPrefix(id, prefix) || len(id) == len(prefix) {
			_ = rest
			return "", "", notFound()
		}
		rest := id[len(prefix):]
		if hasSuffix(rest) {
			return "", id, nil
		}
		return rest, "", nil
	}
	if !ValidName(id) {
		return "", "", ErrInvalidName()
	}
	return id, "", nil
}

// Value is a secret value: the bytes of SecretString or SecretBinary.
type Value struct {
	Data   []byte
	Binary bool
}

// Equal reports whether two values are the same, in constant time for
// values of equal length.
func (v Value) Equal(w Value) bool {
	return v.Binary == w.Binary && subtle.ConstantTimeCompare(v.Data, w.Data) == 1
}

// Zero overwrites the value's bytes.
func (v Value) Zero() { clear(v.Data) }

// Payload format: 0x01 || uvarint(len(wrapped data key)) || wrapped data key
// || envelope blob of (type byte || value) under the data key. The
// encryption context {SecretARN, SecretVersionId} is bound both to the data
// key (by KMS) and to the value (as AAD).
const payloadVersion = 0x01

func encCtx(arn, versionID string) map[string]string {
	return map[string]string{"SecretARN": arn, "SecretVersionId": versionID}
}

func ctxAAD(arn, versionID string) []byte {
	return envelope.AppendPairs(make([]byte, 0, 64+len(arn)+len(versionID)), "SecretARN", arn, "SecretVersionId", versionID)
}

// seal encrypts v for version versionID of the secret arn under KMS key keyRef.
func (s *Service) seal(ctx context.Context, arn, versionID, keyRef string, v Value) (payload []byte, keyARN string, err error) {
	dk, wrapped, keyARN, err := s.keys.DataKey(ctx, keyRef, encCtx(arn, versionID))
	if err != nil {
		return nil, "", err
	}
	defer envelope.Zero(dk)
	k, err := envelope.NewKey(dk)
	if err != nil {
		return nil, "", err
	}
	pt := make([]byte, 1+len(v.Data))
	defer clear(pt)
	if v.Binary {
		pt[0] = 'b'
	} else {
		pt[0] = 's'
	}
	copy(pt[1:], v.Data)
	out := make([]byte, 0, 1+binary.MaxVarintLen32+len(wrapped)+envelope.Overhead+len(pt))
	out = append(out, payloadVersion)
	out = binary.AppendUvarint(out, uint64(len(wrapped)))
	out = append(out, wrapped...)
	return k.SealAppend(out, pt, ctxAAD(arn, versionID)), keyARN, nil
}

var errCorruptPayload = errors.New("secrets: corrupt version payload")

// open decrypts a payload made by seal.
func (s *Service) open(ctx context.Context, arn, versionID string, payload []byte) (Value, error) {
	if len(payload) < 2 || payload[0] != payloadVersion {
		return Value{}, errCorruptPayload
	}
	n, w := binary.Uvarint(payload[1:])
	if w <= 0 || uint64(len(payload)-1-w) < n {
		return Value{}, errCorruptPayload
	}
	wrapped := payload[1+w : 1+w+int(n)]
	blob := payload[1+w+int(n):]
	// The encryption context, encoded once: KMS binds it to the data key,
	// and it is the value's additional data.
	aad := ctxAAD(arn, versionID)
	k, _, err := s.keys.DataKeyAEAD(ctx, wrapped, aad)
	if err != nil {
		return Value{}, err
	}
	pt, err := k.Open(blob, aad)
	if err != nil || len(pt) == 0 {
		return Value{}, errorf(ErrDecryptionFailure, "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	return Value{Data: pt[1:], Binary: pt[0] == 'b'}, nil
}

// Result is what a mutating operation reports back.
type Result struct {
	ARN          string
	Name         string
	VersionID    string   // set when the operation created (or matched) a version
	Stages       []string // the labels on that version
	DeletionDate time.Time
}

func resultOf(sec *Secret) *Result { return &Result{ARN: sec.ARN, Name: sec.Name} }

// CreateInput is CreateSecret's input.
type CreateInput struct {
	Name        string
	Token       string
	Description string
	KmsKeyID    string
	Value       *Value
	Tags        []Tag
	Type        string
}

func requireToken(token string) error {
	if token == "" {
		return errorf(ErrInvalidRequest, "You must provide a ClientRequestToken value. We recommend a UUID-type value.")
	}
	return nil
}

// Create creates a secret, with a first version labelled AWSCURRENT when a
// value is given.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Result, error) {
	if !ValidName(in.Name) {
		return nil, ErrInvalidName()
	}
	if in.Value != nil {
		if err := requireToken(in.Token); err != nil {
			return nil, err
		}
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var res *Result
	err := s.store.Update(ctx, in.Name, func(cur *Secret) (*Change, error) {
		if cur != nil {
			if cur.Deleted() {
				return nil, errorf(ErrInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
			}
			// A retried CreateSecret (same token, same value) succeeds
			// with the original response.
			if in.Value != nil && cur.Version(in.Token) != nil {
				same, err := s.sameValue(ctx, cur, in.Token, *in.Value)
				if err != nil {
					return nil, err
				}
				if same {
					res = &Result{ARN: cur.ARN, Name: cur.Name, VersionID: in.Token}
					return nil, nil
				}
				return nil, tokenInUse(in.Token, cur.ARN)
			}
			return nil, errorf(ErrExists, fmt.Sprintf("The operation failed because the secret %s already exists.", in.Name))
		}
		now := s.timestamp()
		sec := &Secret{
			ARN: s.newARN(in.Name), Name: in.Name, Description: in.Description,
			KmsKeyID: in.KmsKeyID, Type: in.Type, CreatedAt: now, LastChangedAt: now,
		}
		if in.Tags != nil {
			sec.Tags = dedupTags(nil, in.Tags)
			sec.TagsSet = true
		}
		ch := &Change{Secret: sec}
		res = resultOf(sec)
		if in.KmsKeyID != "" {
			if err := s.validateKey(ctx, sec.ARN, in.KmsKeyID); err != nil {
				return nil, err
			}
		}
		if in.Value != nil {
			payload, keyARN, err := s.seal(ctx, sec.ARN, in.Token, sec.KmsKeyID, *in.Value)
			if err != nil {
				return nil, err
			}
			sec.Versions = []Version{{ID: in.Token, Stages: []string{StageCurrent}, CreatedAt: now, KmsKeyARN: keyARN}}
			ch.Payloads = map[string][]byte{in.Token: payload}
			res.VersionID = in.Token
			res.Stages = []string{StageCurrent}
		}
		return ch, nil
	})
	return res, err
}

// validateKey makes the calls Secrets Manager makes when a secret is given
// a KMS key: generate and decrypt a data key under the validation context.
func (s *Service) validateKey(ctx context.Context, arn, keyRef string) error {
	c := encCtx(arn, "RequestToValidateKeyAccess")
	dk, wrapped, _, err := s.keys.DataKey(ctx, keyRef, c)
	if err != nil {
		return err
	}
	envelope.Zero(dk)
	dk, _, err = s.keys.DecryptDataKey(ctx, wrapped, c)
	if err != nil {
		return err
	}
	envelope.Zero(dk)
	return nil
}

func tokenInUse(token, arn string) error {
	return errorf(ErrExists, fmt.Sprintf("You can't use ClientRequestToken %s because that value is already in use for a version of secret %s.", token, arn))
}

// sameValue reports whether version id of sec holds exactly v.
func (s *Service) sameValue(ctx context.Context, sec *Secret, id string, v Value) (bool, error) {
	payload, err := s.store.Payload(ctx, sec.ARN, id)
	if err != nil {
		return false, err
	}
	old, err := s.open(ctx, sec.ARN, id, payload)
	if err != nil {
		return false, err
	}
	defer old.Zero()
	return old.Equal(v), nil
}

// mutate runs fn on the current state of sec under its lock, failing with
// ResourceNotFoundException if the secret is gone or was re-created.
func (s *Service) mutate(ctx context.Context, sec *Secret, fn func(cur *Secret) (*Change, error)) error {
	return s.store.Update(ctx, sec.Name, func(cur *Secret) (*Change, error) {
		if cur == nil || cur.ARN != sec.ARN {
			return nil, notFound()
		}
		return fn(cur)
	})
}

// SecretValue is what GetSecretValue returns.
type SecretValue struct {
	ARN       string
	Name      string
	VersionID string
	Value     Value
	Stages    []string
	CreatedAt time.Time
}

// SelectVersion picks the version GetSecretValue would read: by id and/or
// staging label (AWSCURRENT when neither is given).
func SelectVersion(sec *Secret, versionID, stage string) (*Version, error) {
	if versionID != "" {
		v := sec.Version(versionID)
		if v == nil {
			return nil, errorf(ErrNotFound, "Secrets Manager can't find the specified secret value for VersionId: "+versionID)
		}
		if stage != "" && !slices.Contains(v.Stages, stage) {
			return nil, errorf(ErrInvalidRequest, "You provided a VersionStage that is not associated to the provided VersionId.")
		}
		if v.NoValue {
			return nil, errorf(ErrNotFound, "Secrets Manager can't find the specified secret value for VersionId: "+versionID)
		}
		return v, nil
	}
	if stage == "" {
		stage = StageCurrent
	}
	v := sec.Staged(stage)
	if v == nil || v.NoValue {
		return nil, errorf(ErrNotFound, "Secrets Manager can't find the specified secret value for staging label: "+stage)
	}
	return v, nil
}

// GetValue decrypts and returns one version of sec (found by Lookup). The
// caller zeroes the value when done.
func (s *Service) GetValue(ctx context.Context, sec *Secret, versionID, stage string) (*SecretValue, error) {
	if sec.Deleted() {
		return nil, markedForDeletion()
	}
	v, err := SelectVersion(sec, versionID, stage)
	if err != nil {
		return nil, err
	}
	payload, err := s.store.Payload(ctx, sec.ARN, v.ID)
	if errors.Is(err, ErrNoSuchSecret) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	val, err := s.open(ctx, sec.ARN, v.ID, payload)
	if err != nil {
		return nil, err
	}
	day := today(s.now())
	if !sec.LastAccessedAt.Equal(day) || !v.LastAccessedAt.Equal(day) {
		if err := s.store.Touch(ctx, sec.Name, sec.ARN, v.ID, day); err != nil {
			val.Zero()
			return nil, err
		}
	}
	return &SecretValue{ARN: sec.ARN, Name: sec.Name, VersionID: v.ID, Value: val, Stages: v.Stages, CreatedAt: v.CreatedAt}, nil
}

// PutInput is PutSecretValue's input.
type PutInput struct {
	Token         string
	Value         Value
	Stages        []string
	RotationToken string
}

// PutValue stores a new version of sec.
func (s *Service) PutValue(ctx context.Context, sec *Secret, in PutInput) (*Result, error) {
	if err := requireToken(in.Token); err != nil {
		return nil, err
	}
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		ch, r, err := s.addVersion(ctx, cur, in.Token, in.Value, in.Stages)
		res = r
		return ch, err
	})
	return res, err
}

// addVersion adds (or, for a retry, matches) version token with value v
// and the given staging labels (AWSCURRENT if none), then applies version
// retention. cur is the caller's private copy and is modified.
func (s *Service) addVersion(ctx context.Context, cur *Secret, token string, v Value, stages []string) (*Change, *Result, error) {
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	stages = dedupStrings(stages)
	res := &Result{ARN: cur.ARN, Name: cur.Name, VersionID: token}
	if old := cur.Version(token); old != nil && !old.NoValue {
		same, err := s.sameValue(ctx, cur, token, v)
		if err != nil {
			return nil, nil, err
		}
		if !same {
			return nil, nil, tokenInUse(token, cur.ARN)
		}
		res.Stages = slices.Clone(old.Stages)
		return nil, res, nil
	}
	now := s.timestamp()
	payload, keyARN, err := s.seal(ctx, cur.ARN, token, cur.KmsKeyID, v)
	if err != nil {
		return nil, nil, err
	}
	if old := cur.Version(token); old != nil { // a placeholder (AWSPENDING without value) gets its value
		old.NoValue = false
		old.KmsKeyARN = keyARN
	} else {
		cur.Versions = append(cur.Versions, Version{ID: token, CreatedAt: now, KmsKeyARN: keyARN})
	}
	for _, l := range stages {
		moveLabel(cur, l, token)
	}
	// "If this operation creates the first version for the secret, then
	// Secrets Manager automatically attaches the staging label AWSCURRENT
	// to it" (PutSecretValue API reference), whatever VersionStages says.
	if cur.Staged(StageCurrent) == nil {
		moveLabel(cur, StageCurrent, token)
	}
	if err := checkLabelCount(cur); err != nil {
		return nil, nil, err
	}
	cur.LastChangedAt = now
	ch := &Change{Secret: cur, Payloads: map[string][]byte{token: payload}}
	if err := s.retain(cur, ch, now); err != nil {
		return nil, nil, err
	}
	res.Stages = slices.Clone(cur.Version(token).Stages)
	return ch, res, nil
}

// moveLabel attaches label to version to, removing it from whichever
// version held it. Moving AWSCURRENT puts AWSPREVIOUS on the old current.
func moveLabel(sec *Secret, label, to string) {
	target := sec.Version(to)
	holder := sec.Staged(label)
	if holder != nil && holder.ID == to {
		return
	}
	if holder != nil {
		holder.Stages = slices.DeleteFunc(holder.Stages, func(l string) bool { return l == label })
	}
	target.Stages = append(target.Stages, label)
	if label == StageCurrent && holder != nil {
		if prev := sec.Staged(StagePrevious); prev != nil {
			prev.Stages = slices.DeleteFunc(prev.Stages, func(l string) bool { return l == StagePrevious })
		}
		holder.Stages = append(holder.Stages, StagePrevious)
	}
}

func checkLabelCount(sec *Secret) error {
	n := 0
	for _, v := range sec.Versions {
		n += len(v.Stages)
	}
	if n > MaxLabels {
		return errorf(ErrLimitExceeded, fmt.Sprintf("A secret can have at most %d staging labels attached across all of its versions.", MaxLabels))
	}
	return nil
}

// retain removes the oldest deprecated versions once a secret has more than
// MaxVersions, never ones younger than MinVersionAge.
func (s *Service) retain(sec *Secret, ch *Change, now time.Time) error {
	for len(sec.Versions) > MaxVersions {
		i := slices.IndexFunc(sec.Versions, func(v Version) bool {
			return len(v.Stages) == 0 && now.Sub(v.CreatedAt) >= MinVersionAge
		})
		if i < 0 {
			return errorf(ErrLimitExceeded, fmt.Sprintf("You have exceeded the maximum number of versions for this secret (%d). Versions without staging labels are removed once they are 24 hours old; try again later.", MaxVersions))
		}
		ch.Drop = append(ch.Drop, sec.Versions[i].ID)
		delete(ch.Payloads, sec.Versions[i].ID)
		sec.Versions = slices.Delete(sec.Versions, i, i+1)
	}
	return nil
}

// UpdateInput is UpdateSecret's input; nil fields are left alone.
type UpdateInput struct {
	Token       string
	Description *string
	KmsKeyID    *string
	Value       *Value
	Type        *string
}

// Update changes a secret's metadata and, with a value, adds a version
// labelled AWSCURRENT.
func (s *Service) Update(ctx context.Context, sec *Secret, in UpdateInput) (*Result, error) {
	if in.Value != nil {
		if err := requireToken(in.Token); err != nil {
			return nil, err
		}
	}
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		res = resultOf(cur)
		changed := false
		var ch *Change
		if in.Description != nil && *in.Description != cur.Description {
			cur.Description = *in.Description
			changed = true
		}
		if in.Type != nil && *in.Type != cur.Type {
			cur.Type = *in.Type
			changed = true
		}
		if in.KmsKeyID != nil && *in.KmsKeyID != cur.KmsKeyID {
			c, err := s.rekey(ctx, cur, *in.KmsKeyID)
			if err != nil {
				return nil, err
			}
			ch = c
			changed = true
		}
		if in.Value != nil {
			vc, r, err := s.addVersion(ctx, cur, in.Token, *in.Value, nil)
			if err != nil {
				return nil, err
			}
			res.VersionID = r.VersionID
			if vc != nil {
				ch = mergeChanges(ch, vc)
				changed = true
			}
		}
		if !changed {
			return nil, nil
		}
		cur.LastChangedAt = s.timestamp()
		if ch == nil {
			ch = &Change{}
		}
		ch.Secret = cur
		return ch, nil
	})
	return res, err
}

func mergeChanges(a, b *Change) *Change {
	if a == nil {
		return b
	}
	if a.Payloads == nil {
		a.Payloads = map[string][]byte{}
	}
	for k, v := range b.Payloads {
		a.Payloads[k] = v
	}
	a.Drop = append(a.Drop, b.Drop...)
	a.Secret = b.Secret
	return a
}

// rekey switches sec to KMS key keyRef ("" = default) and re-encrypts the
// versions labelled AWSCURRENT, AWSPENDING and AWSPREVIOUS under it, as
// Secrets Manager does. Other versions keep their old key.
func (s *Service) rekey(ctx context.Context, sec *Secret, keyRef string) (*Change, error) {
	if keyRef != "" {
		if err := s.validateKey(ctx, sec.ARN, keyRef); err != nil {
			return nil, err
		}
	}
	ch := &Change{Payloads: map[string][]byte{}}
	for i := range sec.Versions {
		v := &sec.Versions[i]
		if v.NoValue || !slices.ContainsFunc(v.Stages, func(l string) bool {
			return l == StageCurrent || l == StagePending || l == StagePrevious
		}) {
			continue
		}
		payload, err := s.store.Payload(ctx, sec.ARN, v.ID)
		if err != nil {
			return nil, err
		}
		val, err := s.open(ctx, sec.ARN, v.ID, payload)
		if err != nil {
			return nil, err
		}
		np, keyARN, err := s.seal(ctx, sec.ARN, v.ID, keyRef, val)
		val.Zero()
		if err != nil {
			return nil, err
		}
		ch.Payloads[v.ID] = np
		v.KmsKeyARN = keyARN
	}
	sec.KmsKeyID = keyRef
	return ch, nil
}

// UpdateVersionStage moves or removes a staging label.
func (s *Service) UpdateVersionStage(ctx context.Context, sec *Secret, label, moveTo, removeFrom string) (*Result, error) {
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		res = resultOf(cur)
		for _, id := range []string{moveTo, removeFrom} {
			if id != "" && cur.Version(id) == nil {
				return nil, errorf(ErrInvalidParameter, "The version "+id+" doesn't exist for secret "+cur.ARN+".")
			}
		}
		holder := cur.Staged(label)
		if removeFrom != "" && (holder == nil || holder.ID != removeFrom) {
			return nil, errorf(ErrInvalidParameter, fmt.Sprintf("The staging label %s is not attached to version %s, so you can't remove it from that version.", label, removeFrom))
		}
		if moveTo == "" {
			if removeFrom == "" {
				return nil, errorf(ErrInvalidParameter, "You must specify MoveToVersionId, RemoveFromVersionId, or both.")
			}
			if label == StageCurrent {
				return nil, errorf(ErrInvalidParameter, "You can't remove the staging label AWSCURRENT without moving it to another version. Specify MoveToVersionId.")
			}
			holder.Stages = slices.DeleteFunc(holder.Stages, func(l string) bool { return l == label })
		} else {
			if holder != nil && holder.ID != moveTo && removeFrom == "" {
				return nil, errorf(ErrInvalidParameter, fmt.Sprintf("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", label, holder.ID))
			}
			if cur.Version(moveTo).NoValue && label == StageCurrent {
				return nil, errorf(ErrInvalidParameter, "You can't move the staging label AWSCURRENT to version "+moveTo+" because it has no secret value.")
			}
			moveLabel(cur, label, moveTo)
			if err := checkLabelCount(cur); err != nil {
				return nil, err
			}
		}
		now := s.timestamp()
		cur.LastChangedAt = now
		ch := &Change{Secret: cur}
		// Versions that lost their last label may now be removable.
		if err := s.retain(cur, ch, now); err != nil {
			return nil, err
		}
		return ch, nil
	})
	return res, err
}

// Delete schedules a secret for deletion after a recovery window (7–30
// days, default 30) or, with force, deletes it at once. Force-deleting a
// secret that does not exist succeeds, as in AWS.
func (s *Service) Delete(ctx context.Context, id string, windowDays *int64, force bool) (*Result, error) {
	if err := CheckDeleteParams(windowDays, force); err != nil {
		return nil, err
	}
	sec, err := s.Lookup(ctx, id)
	if errors.Is(err, ErrNotFound) && force {
		name, arn, perr := s.ParseID(id)
		if perr != nil {
			return nil, perr
		}
		if arn == "" {
			arn = s.newARN(name)
		} else {
			name = strings.TrimPrefix(arn, s.arnPrefix())
			name = name[:len(name)-7]
		}
		return &Result{ARN: arn, Name: name, DeletionDate: s.timestamp()}, nil
	}
	if err != nil {
		return nil, err
	}
	return s.DeleteSecret(ctx, sec, windowDays, force)
}

// CheckDeleteParams validates DeleteSecret's parameters; they are checked
// before the secret is looked up.
func CheckDeleteParams(windowDays *int64, force bool) error {
	if force && windowDays != nil {
		return errorf(ErrInvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	if windowDays != nil && (*windowDays < 7 || *windowDays > 30) {
		return errorf(ErrInvalidParameter, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	return nil
}

// DeleteSecret is Delete for a secret already looked up.
func (s *Service) DeleteSecret(ctx context.Context, sec *Secret, windowDays *int64, force bool) (*Result, error) {
	if err := CheckDeleteParams(windowDays, force); err != nil {
		return nil, err
	}
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		res = resultOf(cur)
		now := s.timestamp()
		if force {
			res.DeletionDate = now
			return &Change{Secret: nil}, nil
		}
		if cur.Deleted() {
			return nil, errorf(ErrInvalidRequest, "You can't perform this operation on the secret because it was already scheduled for deletion.")
		}
		days := int64(DefaultRecoveryWindowDays)
		if windowDays != nil {
			days = *windowDays
		}
		cur.DeletedAt = now
		cur.PurgeAt = now.Add(time.Duration(days) * 24 * time.Hour)
		res.DeletionDate = cur.PurgeAt
		return &Change{Secret: cur}, nil
	})
	return res, err
}

// Restore cancels a scheduled deletion.
func (s *Service) Restore(ctx context.Context, sec *Secret) (*Result, error) {
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		res = resultOf(cur)
		if !cur.Deleted() {
			return nil, nil
		}
		cur.DeletedAt, cur.PurgeAt = time.Time{}, time.Time{}
		return &Change{Secret: cur}, nil
	})
	return res, err
}

// PurgeDue permanently deletes secrets whose recovery window has ended and
// reports how many it removed.
func (s *Service) PurgeDue(ctx context.Context) (int, error) {
	n := 0
	for {
		now := s.now()
		names, err := s.store.DueForPurge(ctx, now, 100)
		if err != nil || len(names) == 0 {
			return n, err
		}
		progress := 0
		for _, name := range names {
			err := s.store.Update(ctx, name, func(cur *Secret) (*Change, error) {
				if cur == nil || !cur.Deleted() || cur.PurgeAt.After(now) {
					return nil, nil
				}
				s.log.Info("purged secret at the end of its recovery window", "secret_id", cur.ARN)
				progress++
				return &Change{Secret: nil}, nil
			})
			if err != nil {
				return n, err
			}
		}
		n += progress
		if progress == 0 || len(names) < 100 {
			return n, nil
		}
	}
}

// Tag adds or overwrites tags.
func (s *Service) Tag(ctx context.Context, sec *Secret, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		cur.Tags = dedupTags(cur.Tags, tags)
		if len(cur.Tags) > maxTags {
			return nil, errorf(ErrLimitExceeded, fmt.Sprintf("A secret can have at most %d tags.", maxTags))
		}
		cur.TagsSet = true
		cur.LastChangedAt = s.timestamp()
		return &Change{Secret: cur}, nil
	})
}

// Untag removes tags by key; missing keys are ignored.
func (s *Service) Untag(ctx context.Context, sec *Secret, keys []string) error {
	return s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		cur.Tags = slices.DeleteFunc(cur.Tags, func(t Tag) bool { return slices.Contains(keys, t.Key) })
		if cur.Tags == nil {
			cur.Tags = []Tag{}
		}
		cur.TagsSet = true
		cur.LastChangedAt = s.timestamp()
		return &Change{Secret: cur}, nil
	})
}

const maxTags = 50

func checkTags(tags []Tag) error {
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errorf(ErrInvalidParameter, "Invalid tag key. Tag keys beginning with 'aws:' are reserved for AWS use.")
		}
	}
	if len(tags) > maxTags {
		return errorf(ErrLimitExceeded, fmt.Sprintf("A secret can have at most %d tags.", maxTags))
	}
	return nil
}

// dedupTags merges add into tags: a key already present gets the new value
// in place, new keys are appended in order.
func dedupTags(tags []Tag, add []Tag) []Tag {
	out := slices.Clone(tags)
	if out == nil {
		out = []Tag{}
	}
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}

func dedupStrings(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
