package kms

import (
	"context"
	"fmt"

	"github.com/coffer-dev/coffer/internal/keyring"
)

// RewrapKeys re-wraps the material of every key (all versions) from the
// service's root key to next, for root-key rotation. Secret data is not
// touched: data keys are wrapped by key material, which does not change.
// Run it inside Store.Atomic together with the other root-key rewrites so
// that the rotation commits as a whole. each, when not nil, is called after
// every key (tests inject failures through it). It returns how many
// materials it re-wrapped.
func (s *Service) RewrapKeys(ctx context.Context, next *keyring.Root, each func() error) (int, error) {
	n := 0
	after := ""
	for {
		keys, err := s.store.ListKeys(ctx, after, 200)
		if err != nil {
			return n, err
		}
		for _, listed := range keys {
			err := s.store.UpdateKey(ctx, listed.ID, func(k *Key) (*Key, error) {
				if k == nil {
					return nil, nil
				}
				for i := range k.Materials {
					m := &k.Materials[i]
					w, err := keyring.Rewrap(s.root, next, materialPurpose, materialAAD(k.ID, m.Seq), m.Wrapped)
					if err != nil {
						return nil, fmt.Errorf("key %s material %d: %w", k.ID, m.Seq, err)
					}
					m.Wrapped = w
					m.RootKeyID = next.ID()
					n++
				}
				return k.Clone(), nil
			})
			if err != nil {
				return n, err
			}
			if each != nil {
				if err := each(); err != nil {
					return n, err
				}
			}
		}
		if len(keys) < 200 {
			return n, nil
		}
		after = keys[len(keys)-1].ID
	}
}
