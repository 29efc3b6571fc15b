package kms

import (
	"context"
	"fmt"
	"time"
)

// rotationGuard checks what EnableKeyRotation, DisableKeyRotation and
// RotateKeyOnDemand need (spec §5.2): a customer managed symmetric key
// that is enabled.
func rotationGuard(ctx context.Context, k *Key, action string) error {
	if k.AWSManaged() {
		return managedDenied(ctx, action, k.ARN)
	}
	switch k.State {
	case StateDisabled:
		return errDisabled(k.ARN)
	case StatePendingDeletion:
		return errPendingDelete(k.ARN)
	}
	if k.Spec != "SYMMETRIC_DEFAULT" || k.Origin != "AWS_KMS" {
		return errf(ErrUnsupported, "%s does not support key rotation.", k.ARN)
	}
	return nil
}

// EnableRotation turns on automatic rotation every days (0 = 365;
// 90–2560 is checked by the edge). For a key that already rotates, it
// changes the period: the next rotation is the last one (or the day
// rotation was enabled) plus the new period.
func (s *Service) EnableRotation(ctx context.Context, ref string, days int) error {
	if days == 0 {
		days = defaultRotationDays
	}
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := rotationGuard(ctx, k, "EnableKeyRotation"); err != nil {
			return nil, err
		}
		now := s.now().UTC()
		if k.RotationEnabled && k.RotationPeriodDays > 0 {
			base := k.NextRotation.AddDate(0, 0, -k.RotationPeriodDays)
			k.NextRotation = base.AddDate(0, 0, days)
			if !k.NextRotation.After(now) {
				k.NextRotation = now
			}
		} else {
			k.NextRotation = now.AddDate(0, 0, days)
		}
		k.RotationEnabled = true
		k.RotationPeriodDays = days
		return k, nil
	})
	return err
}

// DisableRotation turns off automatic rotation.
func (s *Service) DisableRotation(ctx context.Context, ref string) error {
	_, err := s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := rotationGuard(ctx, k, "DisableKeyRotation"); err != nil {
			return nil, err
		}
		k.RotationEnabled = false
		k.NextRotation = time.Time{}
		return k, nil
	})
	return err
}

// RotationStatus is what GetKeyRotationStatus reports.
type RotationStatus struct {
	Enabled    bool
	PeriodDays int
	Next       time.Time
}

// GetRotationStatus reports a key's automatic rotation. A key pending
// deletion reports rotation off (it is not rotated while pending).
func (s *Service) GetRotationStatus(ctx context.Context, ref string) (*Key, RotationStatus, error) {
	k, err := s.Resolve(ctx, ref, false)
	if err != nil {
		return nil, RotationStatus{}, err
	}
	if !k.RotationEnabled || k.State == StatePendingDeletion {
		return k, RotationStatus{}, nil
	}
	return k, RotationStatus{Enabled: true, PeriodDays: k.RotationPeriodDays, Next: k.NextRotation}, nil
}

// RotateOnDemand adds new key material now (at most 25 times per key).
// Old material stays for decryption. AWS rotates in the background; here
// the rotation is complete when the call returns.
func (s *Service) RotateOnDemand(ctx context.Context, ref string) (*Key, error) {
	return s.mutate(ctx, ref, func(k *Key) (*Key, error) {
		if err := rotationGuard(ctx, k, "RotateKeyOnDemand"); err != nil {
			return nil, err
		}
		now := s.now().UTC()
		if k.OnDemandRotations >= maxOnDemand {
			return nil, errf(ErrLimitExceeded, "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: %s", k.ARN)
		}
		if k.RotationEnabled && !k.NextRotation.IsZero() && k.NextRotation.Sub(now) < conflictWindow {
			return nil, errf(ErrConflict, "An automatic rotation of %s is in progress or scheduled to begin within the next 20 minutes. Try again later.", k.ARN)
		}
		if err := s.addMaterial(k, now, RotationOnDemand); err != nil {
			return nil, err
		}
		k.OnDemandRotations++
		return k, nil
	})
}

// addMaterial makes new current material for k.
func (s *Service) addMaterial(k *Key, now time.Time, rotation string) error {
	cur := k.Current()
	if cur == nil {
		return errf(ErrInternal, "key %s has no key material", k.ARN)
	}
	k.Materials = append(k.Materials, s.newMaterial(k.ID, cur.Seq+1, now, rotation))
	return nil
}

// RunDue does the scheduled work on keys that are due (Key.DueAt): it
// rotates enabled keys whose automatic rotation date has come and deletes
// keys (and their aliases) whose deletion date has passed. It returns how
// many keys it rotated and deleted. cmd/coffer runs it periodically.
func (s *Service) RunDue(ctx context.Context) (rotated, deleted int, err error) {
	for range 100 { // bounded: 100 batches per run
		now := s.now().UTC()
		keys, err := s.store.DueKeys(ctx, now, 100)
		if err != nil {
			return rotated, deleted, err
		}
		if len(keys) == 0 {
			return rotated, deleted, nil
		}
		for _, k := range keys {
			r, d, err := s.runDueKey(ctx, k.ID, now)
			if err != nil {
				return rotated, deleted, fmt.Errorf("key %s: %w", k.ID, err)
			}
			rotated += r
			deleted += d
		}
	}
	return rotated, deleted, nil
}

func (s *Service) runDueKey(ctx context.Context, id string, now time.Time) (rotated, deleted int, err error) {
	err = s.store.Atomic(ctx, func(ctx context.Context) error {
		var purge *Key
		err := s.store.UpdateKey(ctx, id, func(k *Key) (*Key, error) {
			if k == nil {
				return nil, nil
			}
			due := k.DueAt()
			if due.IsZero() || due.After(now) {
				return k, nil // changed since it was listed
			}
			if k.State == StatePendingDeletion {
				purge = k
				return nil, nil
			}
			if err := s.addMaterial(k, now, RotationAutomatic); err != nil {
				return nil, err
			}
			next := k.NextRotation.AddDate(0, 0, k.RotationPeriodDays)
			if !next.After(now) { // overdue (e.g. re-enabled after long)
				next = now.AddDate(0, 0, k.RotationPeriodDays)
			}
			k.NextRotation = next
			rotated = 1
			return k.Clone(), nil
		})
		if err != nil || purge == nil {
			return err
		}
		deleted = 1
		var names []string
		if err := s.eachAlias(ctx, func(a *Alias) bool {
			if a.TargetKeyID == id {
				names = append(names, a.Name)
			}
			return true
		}); err != nil {
			return err
		}
		for _, n := range names {
			if err := s.store.UpdateAlias(ctx, n, func(*Alias) (*Alias, error) { return nil, nil }); err != nil {
				return err
			}
		}
		for _, m := range purge.Materials {
			s.materials.Delete(m.ID)
		}
		s.dataKeys.dropKey(id)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return rotated, deleted, nil
}
