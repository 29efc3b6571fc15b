package secrets

import "context"

// Resource policies. The edge parses and checks a policy (syntax,
// BlockPublicPolicy) before it reaches the service; the service stores it
// with the secret.

// PutResourcePolicy attaches a resource-based policy to a secret,
// replacing any previous one.
func (s *Service) PutResourcePolicy(ctx context.Context, sec *Secret, doc string) (*Result, error) {
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		cur.ResourcePolicy = doc
		res = resultOf(cur)
		return &Change{Secret: cur}, nil
	})
	return res, err
}

// DeleteResourcePolicy removes a secret's resource-based policy (no error
// when it has none).
func (s *Service) DeleteResourcePolicy(ctx context.Context, sec *Secret) (*Result, error) {
	var res *Result
	err := s.mutate(ctx, sec, func(cur *Secret) (*Change, error) {
		if cur.Deleted() {
			return nil, markedForDeletion()
		}
		res = resultOf(cur)
		if cur.ResourcePolicy == "" {
			return nil, nil
		}
		cur.ResourcePolicy = ""
		return &Change{Secret: cur}, nil
	})
	return res, err
}
