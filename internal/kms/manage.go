package kms

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Limits and defaults (spec §5.4, §5.5; model documentation).
const (
	defaultRotationDays = 365
	minPendingDays      = 7
	maxPendingDays      = 30
	defaultPendingDays  = 30
	maxTags             = 50
	maxAliasesPerKey    = 50
	maxOnDemand         = 25
	maxPolicyBytes      = 32768
	// conflictWindow: RotateKeyOnDemand is refused while an automatic
	// rotation is due within this window (model, ConflictException).
	conflictWindow = 20 * time.Minute
)

type callerKey struct{}

// WithCaller returns ctx carrying the ARN of the principal calling the KMS
// API, which AccessDeniedException messages name.
func WithCaller(ctx context.Context, principalARN string) context.Context {
	return context.WithValue(ctx, callerKey{}, principalARN)
}

func callerOf(ctx context.Context) string {
	if s, ok := ctx.Value(callerKey{}).(string); ok && s != "" {
		return s
	}
	return "anonymous"
}

// managedDenied is what a user gets for an action the key policy of an AWS
// managed key does not grant: that policy allows the account's principals
// only kms:Describe*, kms:Get*, kms:List* and kms:RevokeGrant directly,
// and cryptographic use only through Secrets Manager (kms:ViaService). The
// text is IAM's for an action no resource-based policy allows.
func managedDenied(ctx context.Context, action, keyARN string) *Error {
	return errf(ErrAccessDenied, "User: %s is not authorized to perform: kms:%s on resource: %s because no resource-based policy allows the kms:%s action", callerOf(ctx), action, keyARN, action)
}

// notPendingOrDenied is the common guard of mutating operations: users
// cannot change AWS managed keys, and keys pending deletion only accept
// CancelKeyDeletion (and a few reads).
func notPendingOrDenied(ctx context.Context, k *Key, action string) error {
	if k.AWSManaged() {
		return managedDenied(ctx, action, k.ARN)
	}
	if k.State == StatePendingDeletion {
		return errPendingDelete(k.ARN)
	}
	return nil
}

// CreateKeyInput is CreateKey's input; empty strings take AWS's defaults.
type CreateKeyInput struct {
	Description           string
	Policy                string
	KeyUsage              string
	KeySpec               string
	CustomerMasterKeySpec string
	Origin                string
	CustomKeyStoreID      string
	XksKeyID              string
	MultiRegion           bool
	Tags                  []Tag
}

// CreateKey creates a customer managed symmetric encryption key. Other key
// specs, usages, origins, custom key stores and multi-Region keys are
// refused with UnsupportedOperationException for now.
func (s *Service) CreateKey(ctx context.Context, in CreateKeyInput) (*Key, error) {
	spec := in.KeySpec
	if in.KeySpec != "" && in.CustomerMasterKeySpec != "" {
		return nil, errf(ErrValidation, "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.")
	}
	if spec == "" {
		spec = in.CustomerMasterKeySpec
	}
	if spec == "" {
		spec = "SYMMETRIC_DEFAULT"
	}
	usage := in.KeyUsage
	if usage == "" {
		usage = "ENCRYPT_DECRYPT"
	}
	switch {
	case spec != "SYMMETRIC_DEFAULT":
		return nil, errf(ErrUnsupported, "KeySpec %s is not supported by this Coffer server: only symmetric encryption keys (SYMMETRIC_DEFAULT) can be created.", spec)
	case usage != "ENCRYPT_DECRYPT":
		return nil, errf(ErrUnsupported, "KeyUsage %s is not supported by this Coffer server: only symmetric encryption keys (ENCRYPT_DECRYPT) can be created.", usage)
	case in.Origin != "" && in.Origin != "AWS_KMS":
		return nil, errf(ErrUnsupported, "Origin %s is not supported by this Coffer server: only AWS_KMS key material can be created.", in.Origin)
	case in.CustomKeyStoreID != "" || in.XksKeyID != "":
		return nil, errf(ErrUnsupported, "Custom key stores are not supported by this Coffer server.")
	case in.MultiRegion:
		return nil, errf(ErrUnsupported, "Multi-Region keys are not supported by this Coffer server.")
	}
	if in.Policy != "" {
		if err := checkPolicy(in.Policy); err != nil {
			return nil, err
		}
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	k, err := s.newKey(ManagerCustomer, in.Description, in.Policy, tags)
	if err != nil {
		return nil, err
	}
	err = s.store.UpdateKey(ctx, k.ID, func(cur *Key) (*Key, error) {
		if cur != nil {
			return nil, errf(ErrInternal, "key id collision")
		}
		return k, nil
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// checkPolicy validates a key policy document: at most 32 KB (KDG
// resource-limits) and a JSON object.
func checkPolicy(p string) error {
	if len(p) > maxPolicyBytes {
		return errf(ErrLimitExceeded, "The key policy exceeds the maximum size of %d bytes.", maxPolicyBytes)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(p), &doc); err != nil {
		return errf(ErrMalformedPolicy, "The policy is not a valid JSON document.")
	}
	if _, ok := doc["Statement"]; !ok {
		return errf(ErrMalformedPolicy, "The policy document has no Statement.")
	}
	return nil
}

// mergeTags adds (or updates) tags on cur, with AWS's checks (spec §5.4).
func mergeTags(cur, add []Tag) ([]Tag, error) {
	seen := make(map[string]bool, len(add))
	for _, t := range add {
		if seen[t.Key] {
			return nil, errf(ErrTag, "Duplicate tag keys")
		}
		seen[t.Key] = true
		if len(t.Key) >= 4 && strings.EqualFold(t.Key[:4], "aws:") {
			return nil, errf(ErrTag, "Tags beginning with aws: are reserved")
		}
	}
	out := slices.Clone(cur)
	for _, t := range add {
		if i := slices.IndexFunc(out, func(o Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, errf(ErrTag, "Too many tags")
	}
	return out, nil
}

// Describe returns the key ref names (any form). DescribeKey on the
// predefined alias alias/aws/secretsmanager creates its key, as in AWS.
func (s *Service) Describe(ctx context.Context, ref string) (*Key, error) {
	return s.Resolve(ctx, ref, true)
}

// mutate resolves ref (key id or key ARN) and runs fn on a private copy of
// the key under its lock; fn changes that copy and returns it to store it.
func (s *Service) mutate(ctx context.Context, ref string, fn func(k *Key) (*Key, error)) (*Key, error) {
	k, err := s.Resolve(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	var out *Key
	err = s.store.UpdateKey(ctx, k.ID, func(cur *Key) (*Key, error) {
		if cur == nil {
			return nil, errf(ErrNotFound, "Key '%s' does not exist", k.ARN)
		}
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if next == cur {
			// fn changed its argument: store it (the store writes
			// nothing for the pointer-equal argument).
			next = cur.Clone()
		}
		out = next
		return next, nil
	})
	return out, err
}

// EnableKey sets a disabled key to Enabled.
func (s *Service) EnableKey(ctx context.Context, ref string) error {
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := notPendingOrDenied(ctx, k, "EnableKey"); err != nil {
			return nil, err
		}
		k.State = StateEnabled
		return k, nil
	})
	return err
}

// DisableKey sets a key to Disabled.
func (s *Service) DisableKey(ctx context.Context, ref string) error {
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := notPendingOrDenied(ctx, k, "DisableKey"); err != nil {
			return nil, err
		}
		k.State = StateDisabled
		return k, nil
	})
	return err
}

// ScheduleDeletion puts a key in PendingDeletion for days (0 = 30, else
// 7–30); RunDue deletes it and its aliases when the date has passed.
func (s *Service) ScheduleDeletion(ctx context.Context, ref string, days int) (*Key, error) {
	if days == 0 {
		days = defaultPendingDays
	}
	if days < minPendingDays || days > maxPendingDays {
		bound := "greater than or equal to 7"
		if days > maxPendingDays {
			bound = "less than or equal to 30"
		}
		return nil, errf(ErrValidation, "1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value %s", days, bound)
	}
	return s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := notPendingOrDenied(ctx, k, "ScheduleKeyDeletion"); err != nil {
			return nil, err
		}
		k.State = StatePendingDeletion
		k.DeletionDate = s.now().UTC().AddDate(0, 0, days)
		k.PendingWindowDays = days
		return k, nil
	})
}

// CancelDeletion takes a key out of PendingDeletion; it ends Disabled.
func (s *Service) CancelDeletion(ctx context.Context, ref string) (*Key, error) {
	return s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if k.AWSManaged() {
			return nil, managedDenied(ctx, "CancelKeyDeletion", k.ARN)
		}
		if k.State != StatePendingDeletion {
			return nil, errf(ErrInvalidState, "%s is not pending deletion.", k.ARN)
		}
		k.State = StateDisabled
		k.DeletionDate = time.Time{}
		k.PendingWindowDays = 0
		return k, nil
	})
}

// UpdateDescription replaces a key's description.
func (s *Service) UpdateDescription(ctx context.Context, ref, description string) error {
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := notPendingOrDenied(ctx, k, "UpdateKeyDescription"); err != nil {
			return nil, err
		}
		k.Description = description
		return k, nil
	})
	return err
}

// Tag adds or updates tags on a customer managed key.
func (s *Service) Tag(ctx context.Context, ref string, tags []Tag) error {
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := notPendingOrDenied(ctx, k, "TagResource"); err != nil {
			return nil, err
		}
		t, err := mergeTags(k.Tags, tags)
		if err != nil {
			return nil, err
		}
		k.Tags = t
		return k, nil
	})
	return err
}

// Untag removes tags by key; absent keys are ignored.
func (s *Service) Untag(ctx context.Context, ref string, keys []string) error {
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := notPendingOrDenied(ctx, k, "UntagResource"); err != nil {
			return nil, err
		}
		k.Tags = slices.DeleteFunc(k.Tags, func(t Tag) bool { return slices.Contains(keys, t.Key) })
		return k, nil
	})
	return err
}

// ListTags lists a key's tags, paginated.
func (s *Service) ListTags(ctx context.Context, ref string, limit int, marker string) ([]Tag, string, error) {
	k, err := s.Resolve(ctx, ref, false)
	if err != nil {
		return nil, "", err
	}
	start, err := indexMarker(marker, "t")
	if err != nil {
		return nil, "", err
	}
	return page(k.Tags, start, clampLimit(limit, 50, 50), "t")
}

// policyName checks a PolicyName parameter: only "default" exists.
func policyName(name string) error {
	if name != "" && name != "default" {
		return errf(ErrNotFound, "No such policy exists")
	}
	return nil
}

// GetPolicy returns a key's policy (the only one, "default").
func (s *Service) GetPolicy(ctx context.Context, ref, name string) (string, error) {
	k, err := s.Resolve(ctx, ref, false)
	if err != nil {
		return "", err
	}
	if err := policyName(name); err != nil {
		return "", err
	}
	return k.Policy, nil
}

// PutPolicy replaces a key's policy.
func (s *Service) PutPolicy(ctx context.Context, ref, name, policy string) error {
	if err := policyName(name); err != nil {
		return err
	}
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		// PutKeyPolicy works on keys pending deletion (spec §5.2).
		if k.AWSManaged() {
			return nil, managedDenied(ctx, "PutKeyPolicy", k.ARN)
		}
		if err := checkPolicy(policy); err != nil {
			return nil, err
		}
		k.Policy = policy
		return k, nil
	})
	return err
}

// ValidAliasName checks an alias name for CreateAlias, UpdateAlias and
// DeleteAlias (spec §5.1). Names under alias/aws/ belong to AWS: users get
// NotAuthorizedException with no message [MOTO, emulator behaviour].
func ValidAliasName(name string) error {
	if !strings.HasPrefix(name, "alias/") {
		return errf(ErrValidation, "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
	}
	if name == "alias/" {
		return errf(ErrInvalidAliasName, "Alias name must not be empty after the prefix \"alias/\".")
	}
	if strings.HasPrefix(name, "alias/aws/") {
		return &Error{Kind: ErrNotAuthorized}
	}
	return nil
}

// aliasTarget resolves the TargetKeyId of CreateAlias/UpdateAlias: a key id
// or key ARN of a customer managed key not pending deletion.
func (s *Service) aliasTarget(ctx context.Context, target, action string) (*Key, error) {
	k, err := s.Resolve(ctx, target, false)
	if err != nil {
		return nil, err
	}
	if err := notPendingOrDenied(ctx, k, action); err != nil {
		return nil, err
	}
	return k, nil
}

// aliasCount counts the aliases pointing at key id.
func (s *Service) aliasCount(ctx context.Context, id string) (int, error) {
	n := 0
	err := s.eachAlias(ctx, func(a *Alias) bool {
		if a.TargetKeyID == id {
			n++
		}
		return true
	})
	return n, err
}

// eachAlias calls fn for every stored alias in name order until it
// returns false.
func (s *Service) eachAlias(ctx context.Context, fn func(*Alias) bool) error {
	after := ""
	for {
		batch, err := s.store.ListAliases(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, a := range batch {
			if !fn(a) {
				return nil
			}
		}
		if len(batch) < 500 {
			return nil
		}
		after = batch[len(batch)-1].Name
	}
}

// CreateAlias creates alias name for a customer managed key.
func (s *Service) CreateAlias(ctx context.Context, name, target string) error {
	if err := ValidAliasName(name); err != nil {
		return err
	}
	k, err := s.aliasTarget(ctx, target, "CreateAlias")
	if err != nil {
		return err
	}
	n, err := s.aliasCount(ctx, k.ID)
	if err != nil {
		return err
	}
	if n >= maxAliasesPerKey {
		return errf(ErrLimitExceeded, "A KMS key can have at most %d aliases.", maxAliasesPerKey)
	}
	return s.store.UpdateAlias(ctx, name, func(cur *Alias) (*Alias, error) {
		if cur != nil {
			return nil, errf(ErrAlreadyExists, "An alias with the name %s already exists", s.AliasARN(name))
		}
		now := s.now().UTC()
		return &Alias{Name: name, TargetKeyID: k.ID, CreatedAt: now, UpdatedAt: now}, nil
	})
}

// UpdateAlias points an existing alias at another customer managed key.
func (s *Service) UpdateAlias(ctx context.Context, name, target string) error {
	if err := ValidAliasName(name); err != nil {
		return err
	}
	k, err := s.aliasTarget(ctx, target, "UpdateAlias")
	if err != nil {
		return err
	}
	return s.store.UpdateAlias(ctx, name, func(cur *Alias) (*Alias, error) {
		if cur == nil {
			return nil, errf(ErrNotFound, "Alias %s is not found.", s.AliasARN(name))
		}
		if cur.TargetKeyID != k.ID {
			n, err := s.aliasCount(ctx, k.ID)
			if err != nil {
				return nil, err
			}
			if n >= maxAliasesPerKey {
				return nil, errf(ErrLimitExceeded, "A KMS key can have at most %d aliases.", maxAliasesPerKey)
			}
		}
		next := *cur // a new value: the store writes nothing for cur itself
		next.TargetKeyID = k.ID
		next.UpdatedAt = s.now().UTC()
		return &next, nil
	})
}

// DeleteAlias deletes an alias (the key is not affected).
func (s *Service) DeleteAlias(ctx context.Context, name string) error {
	if err := ValidAliasName(name); err != nil {
		return err
	}
	return s.store.UpdateAlias(ctx, name, func(cur *Alias) (*Alias, error) {
		if cur == nil {
			return nil, errf(ErrNotFound, "Alias %s is not found.", s.AliasARN(name))
		}
		return nil, nil
	})
}
