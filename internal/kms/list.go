package kms

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
)

// Markers are opaque to clients: base64url of "<kind>:<position>", where
// kind names the list (k keys, a aliases, t tags, r rotations) so that a
// marker of one list is refused by another.

func makeMarker(kind, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + pos))
}

var errBadMarker = &Error{Kind: ErrInvalidMarker, Message: "The request was rejected because the marker that specifies where pagination should next begin is not valid."}

// parseMarker returns the position of a marker of kind ("" for none).
func parseMarker(marker, kind string) (string, error) {
	if marker == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(marker)
	if err != nil {
		return "", errBadMarker
	}
	pos, ok := strings.CutPrefix(string(b), kind+":")
	if !ok || pos == "" {
		return "", errBadMarker
	}
	return pos, nil
}

func indexMarker(marker, kind string) (int, error) {
	pos, err := parseMarker(marker, kind)
	if err != nil || pos == "" {
		return 0, err
	}
	n, err := strconv.Atoi(pos)
	if err != nil || n <= 0 {
		return 0, errBadMarker
	}
	return n, nil
}

// clampLimit applies a list's default and maximum page size.
func clampLimit(limit, def, max int) int {
	switch {
	case limit <= 0:
		return def
	case limit > max:
		return max
	}
	return limit
}

// page slices items[start:] to limit, with the marker of the next page.
func page[T any](items []T, start, limit int, kind string) ([]T, string, error) {
	if start > len(items) {
		return nil, "", errBadMarker
	}
	rest := items[start:]
	if len(rest) <= limit {
		return rest, "", nil
	}
	return rest[:limit], makeMarker(kind, strconv.Itoa(start+limit)), nil
}

// ListKeys lists keys (customer and AWS managed) in key id order.
func (s *Service) ListKeys(ctx context.Context, limit int, marker string) ([]*Key, string, error) {
	after, err := parseMarker(marker, "k")
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit, 100, 1000)
	keys, err := s.store.ListKeys(ctx, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(keys) <= limit {
		return keys, "", nil
	}
	keys = keys[:limit]
	return keys, makeMarker("k", keys[len(keys)-1].ID), nil
}

// ListAliases lists aliases in name order: all of them, or (keyRef not
// empty) those of one key. The predefined alias alias/aws/secretsmanager
// is listed without a target until its key exists, as AWS lists its
// predefined aliases.
func (s *Service) ListAliases(ctx context.Context, keyRef string, limit int, marker string) ([]*Alias, string, error) {
	after, err := parseMarker(marker, "a")
	if err != nil {
		return nil, "", err
	}
	limit = clampLimit(limit, 50, 100)
	var only string
	if keyRef != "" {
		k, err := s.Resolve(ctx, keyRef, false)
		if err != nil {
			return nil, "", err
		}
		only = k.ID
	}
	var out []*Alias
	predefinedPending := false
	if only == "" && SecretsManagerAlias > after {
		if _, err := s.store.Alias(ctx, SecretsManagerAlias); err != nil {
			predefinedPending = true
		}
	}
	cursor := after
	for len(out) <= limit {
		batch, err := s.store.ListAliases(ctx, cursor, limit+1)
		if err != nil {
			return nil, "", err
		}
		for _, a := range batch {
			if only == "" || a.TargetKeyID == only {
				out = append(out, a)
			}
		}
		if len(batch) < limit+1 {
			break
		}
		cursor = batch[len(batch)-1].Name
	}
	if predefinedPending {
		i := 0
		for i < len(out) && out[i].Name < SecretsManagerAlias {
			i++
		}
		out = append(out[:i], append([]*Alias{{Name: SecretsManagerAlias}}, out[i:]...)...)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	return out, makeMarker("a", out[len(out)-1].Name), nil
}

// RotationEntry is one key material in ListKeyRotations.
type RotationEntry struct {
	Material Material
	Current  bool
}

// ListRotations lists a key's materials made by rotation (all materials
// with includeAll, i.e. IncludeKeyMaterial=ALL_KEY_MATERIAL), oldest
// first.
func (s *Service) ListRotations(ctx context.Context, ref string, includeAll bool, limit int, marker string) (*Key, []RotationEntry, string, error) {
	k, err := s.Resolve(ctx, ref, false)
	if err != nil {
		return nil, nil, "", err
	}
	start, err := indexMarker(marker, "r")
	if err != nil {
		return nil, nil, "", err
	}
	var all []RotationEntry
	cur := k.Current()
	for _, m := range k.Materials {
		if m.Rotation == "" && !includeAll {
			continue
		}
		all = append(all, RotationEntry{Material: m, Current: cur != nil && m.ID == cur.ID})
	}
	entries, next, err := page(all, start, clampLimit(limit, 100, 1000), "r")
	return k, entries, next, err
}
