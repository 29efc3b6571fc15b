package secrets

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
)

// ListInput is ListSecrets' input.
type ListInput struct {
	Filters        []Filter
	IncludeDeleted bool
	MaxResults     int // 0 means 100
	NextToken      string
	SortBy         string // created-date (default), last-accessed-date, last-changed-date, name
	SortOrder      string // asc (default) or desc
}

// listToken is the opaque NextToken of ListSecrets and BatchGetSecretValue.
type listToken struct {
	Cursor
	Sort SortKey `json:"s,omitempty"`
	Desc bool    `json:"d,omitempty"`
}

func errBadToken() *Error { return errorf(ErrInvalidNextToken, "The NextToken value is invalid.") }

func encodeToken(t any) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, t any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, t) != nil {
		return errBadToken()
	}
	return nil
}

func sortKey(by string) SortKey {
	switch by {
	case "last-accessed-date":
		return SortLastAccessed
	case "last-changed-date":
		return SortLastChanged
	case "name":
		return SortName
	}
	return SortCreated
}

// List returns one page of secrets and the token of the next page ("" at
// the end).
func (s *Service) List(ctx context.Context, in ListInput) ([]*Secret, string, error) {
	match, err := CompileFilters(in.Filters)
	if err != nil {
		return nil, "", err
	}
	q := ListQuery{
		Sort:           sortKey(in.SortBy),
		Desc:           in.SortOrder == "desc",
		IncludeDeleted: in.IncludeDeleted,
		Limit:          in.MaxResults,
		Match:          match,
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	if in.NextToken != "" {
		var t listToken
		if err := decodeToken(in.NextToken, &t); err != nil {
			return nil, "", err
		}
		if t.Sort != q.Sort || t.Desc != q.Desc {
			return nil, "", errBadToken()
		}
		q.After = &t.Cursor
	}
	page, more, err := s.store.List(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more && len(page) > 0 {
		last := page[len(page)-1]
		next = encodeToken(listToken{Cursor: Cursor{Value: SortValue(last, q.Sort), Name: last.Name}, Sort: q.Sort, Desc: q.Desc})
	}
	return page, next, nil
}

// ListVersions returns one page of sec's versions, newest first, hiding
// deprecated (unlabelled) versions unless includeDeprecated.
func (s *Service) ListVersions(ctx context.Context, sec *Secret, includeDeprecated bool, max int, token string) ([]Version, string, error) {
	if max <= 0 {
		max = 100
	}
	vs := make([]Version, 0, len(sec.Versions))
	for i := len(sec.Versions) - 1; i >= 0; i-- {
		v := sec.Versions[i]
		if len(v.Stages) == 0 && !includeDeprecated {
			continue
		}
		vs = append(vs, v)
	}
	if token != "" {
		var after string
		if err := decodeToken(token, &after); err != nil {
			return nil, "", err
		}
		i := slices.IndexFunc(vs, func(v Version) bool { return v.ID == after })
		if i < 0 {
			return nil, "", errBadToken()
		}
		vs = vs[i+1:]
	}
	next := ""
	if len(vs) > max {
		vs = vs[:max]
		next = encodeToken(vs[max-1].ID)
	}
	return vs, next, nil
}

// BatchInput is BatchGetSecretValue's input: exactly one of IDs and Filters.
type BatchInput struct {
	IDs        []string
	Filters    []Filter
	MaxResults int
	NextToken  string
}

// BatchError is one secret BatchGetSecretValue could not return.
type BatchError struct {
	SecretID string
	Err      error
}

// BatchGet returns the AWSCURRENT value of several secrets. authorize is
// called for every secret before its value is read; a secret it refuses,
// like one that cannot be found or read, is reported in the errors instead
// of failing the call.
func (s *Service) BatchGet(ctx context.Context, in BatchInput, authorize func(context.Context, *Secret) error) ([]*SecretValue, []BatchError, string, error) {
	if len(in.IDs) > 0 && len(in.Filters) > 0 || len(in.IDs) == 0 && len(in.Filters) == 0 {
		return nil, nil, "", errorf(ErrInvalidParameter, "Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	}
	if in.MaxResults != 0 && len(in.Filters) == 0 {
		return nil, nil, "", errorf(ErrInvalidParameter, "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
	}
	var (
		vals  []*SecretValue
		errs  []BatchError
		fatal error
	)
	// get reads one secret; domain errors (not found, denied, deleted, …)
	// become entries of errs, anything else fails the whole call.
	get := func(id string, sec *Secret) {
		var err error
		if sec == nil {
			sec, err = s.Lookup(ctx, id)
		}
		if err == nil {
			err = authorize(ctx, sec)
		}
		var v *SecretValue
		if err == nil {
			v, err = s.GetValue(ctx, sec, "", "")
		}
		switch {
		case err == nil:
			vals = append(vals, v)
		case IsClientFault(err):
			errs = append(errs, BatchError{SecretID: id, Err: err})
		case fatal == nil:
			fatal = err
		}
	}
	done := func(next string) ([]*SecretValue, []BatchError, string, error) {
		if fatal != nil {
			for _, v := range vals {
				v.Value.Zero()
			}
			return nil, nil, "", fatal
		}
		return vals, errs, next, nil
	}
	if len(in.IDs) > 0 {
		for _, id := range in.IDs {
			get(id, nil)
		}
		return done("")
	}
	max := in.MaxResults
	if max == 0 {
		max = 20
	}
	page, next, err := s.List(ctx, ListInput{Filters: in.Filters, MaxResults: max, NextToken: in.NextToken})
	if err != nil {
		return nil, nil, "", err
	}
	for _, sec := range page {
		get(sec.Name, sec)
	}
	return done(next)
}
