package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/coffer-dev/coffer/internal/iam"
)

// Bootstrap is the declarative IAM file (`coffer server --iam-bootstrap
// FILE`, YAML or JSON). It holds no secrets: no access keys are created
// from it. ApplyBootstrap converges every entity the file names to what the
// file says (tags, inline and attached policies, boundary, trust policy,
// provider settings) and leaves entities the file does not name alone.
//
// In every string, {{account}} and {{region}} are replaced by the server's
// account id and region. Policy documents may be written as YAML/JSON
// objects or as JSON strings. Managed policies are referenced by name
// (customer managed policies of this account) or by ARN.
type Bootstrap struct {
	Policies      []BootstrapPolicy   `yaml:"policies"`
	Users         []BootstrapEntity   `yaml:"users"`
	Roles         []BootstrapEntity   `yaml:"roles"`
	OIDCProviders []BootstrapProvider `yaml:"oidcProviders"`
}

// BootstrapPolicy is a customer managed policy.
type BootstrapPolicy struct {
	Name        string   `yaml:"name"`
	Path        string   `yaml:"path"`
	Description string   `yaml:"description"`
	Document    Document `yaml:"document"`
	Tags        TagMap   `yaml:"tags"`
}

// BootstrapEntity is a user or a role.
type BootstrapEntity struct {
	Name                string              `yaml:"name"`
	Path                string              `yaml:"path"`
	Tags                TagMap              `yaml:"tags"`
	InlinePolicies      map[string]Document `yaml:"inlinePolicies"`
	ManagedPolicies     []string            `yaml:"managedPolicies"`
	PermissionsBoundary string              `yaml:"permissionsBoundary"`
	// Roles only.
	AssumeRolePolicy   Document `yaml:"assumeRolePolicy"`
	Description        string   `yaml:"description"`
	MaxSessionDuration int      `yaml:"maxSessionDuration"`
}

// BootstrapProvider is an OpenID Connect provider. JWKSFile (relative to
// the bootstrap file) or JWKS gives a static key set, JWKSURI a URL to
// fetch it from; without any, keys are discovered from the issuer.
type BootstrapProvider struct {
	URL         string   `yaml:"url"`
	ClientIDs   []string `yaml:"clientIds"`
	Thumbprints []string `yaml:"thumbprints"`
	JWKSFile    string   `yaml:"jwksFile"`
	JWKS        Document `yaml:"jwks"`
	JWKSURI     string   `yaml:"jwksUri"`
	Tags        TagMap   `yaml:"tags"`
}

// Document is a JSON document written in YAML (an object) or as a string.
type Document string

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Document) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!str" || n.Tag == "") {
		*d = Document(n.Value)
		return nil
	}
	var b bytes.Buffer
	budget := maxDocNodes
	if err := nodeJSON(&b, n, 0, &budget); err != nil {
		return err
	}
	*d = Document(b.String())
	return nil
}

// Limits on a document written in YAML: nesting depth and nodes visited
// (aliases are expanded, so a self-referencing or exponentially nested
// alias must stop somewhere).
const (
	maxDocDepth = 64
	maxDocNodes = 100000
)

// nodeJSON renders a YAML node as JSON, keeping unquoted dates (such as
// Version: 2012-10-17) as strings.
func nodeJSON(b *bytes.Buffer, n *yaml.Node, depth int, budget *int) error {
	*budget--
	if depth > maxDocDepth || *budget < 0 || b.Len() > 1<<20 {
		return fmt.Errorf("line %d: document too large or too deeply nested", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("empty document")
		}
		return nodeJSON(b, n.Content[0], depth+1, budget)
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("line %d: unresolved alias", n.Line)
		}
		return nodeJSON(b, n.Alias, depth+1, budget)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := nodeJSON(b, n.Content[i+1], depth+1, budget); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := nodeJSON(b, c, depth+1, budget); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
				b.WriteString(n.Value)
				return nil
			}
		case "!!bool":
			v, _ := json.Marshal(strings.EqualFold(n.Value, "true"))
			b.Write(v)
			return nil
		case "!!null":
			b.WriteString("null")
			return nil
		}
		v, _ := json.Marshal(n.Value)
		b.Write(v)
	default:
		return fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	return nil
}

// TagMap is tags written as a map (key: value) or as a list of {key, value}.
type TagMap []Tag

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *TagMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			*t = append(*t, Tag{Key: n.Content[i].Value, Value: n.Content[i+1].Value})
		}
		return nil
	}
	var list []Tag
	if err := n.Decode(&list); err != nil {
		return err
	}
	*t = list
	return nil
}

// ParseBootstrap decodes a bootstrap file (YAML or JSON), rejecting
// unknown fields, after replacing {{account}} and {{region}}.
func ParseBootstrap(data []byte, account, region string) (*Bootstrap, error) {
	data = bytes.ReplaceAll(data, []byte("{{account}}"), []byte(account))
	data = bytes.ReplaceAll(data, []byte("{{region}}"), []byte(region))
	var b Bootstrap
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("iam bootstrap: %w", err)
	}
	return &b, nil
}

// ApplyBootstrap applies a bootstrap file; dir resolves relative jwksFile
// paths. Run it inside one unit of work so that a failure applies nothing.
func (s *Service) ApplyBootstrap(ctx context.Context, b *Bootstrap, dir string) error {
	if err := s.lockIAM(ctx); err != nil {
		return err
	}
	for _, p := range b.Policies {
		if err := s.bootPolicy(ctx, p); err != nil {
			return fmt.Errorf("iam bootstrap: policy %q: %w", p.Name, err)
		}
	}
	for _, p := range b.OIDCProviders {
		if err := s.bootProvider(ctx, p, dir); err != nil {
			return fmt.Errorf("iam bootstrap: OIDC provider %q: %w", p.URL, err)
		}
	}
	for _, u := range b.Users {
		if err := s.bootEntity(ctx, KindUser, u); err != nil {
			return fmt.Errorf("iam bootstrap: user %q: %w", u.Name, err)
		}
	}
	for _, r := range b.Roles {
		if err := s.bootEntity(ctx, KindRole, r); err != nil {
			return fmt.Errorf("iam bootstrap: role %q: %w", r.Name, err)
		}
	}
	return nil
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

// resolvePolicyRef turns a name into the ARN of the existing customer
// managed policy of that name (whatever its path).
func (s *Service) resolvePolicyRef(ctx context.Context, ref string) (string, error) {
	if strings.HasPrefix(ref, "arn:") {
		return ref, nil
	}
	d, err := s.store.Doc(ctx, DocPolicy, docName(ref))
	if errors.Is(err, ErrNoSuchDoc) {
		return "", fmt.Errorf("managed policy %q is not defined", ref)
	}
	if err != nil {
		return "", err
	}
	p, err := unmarshalDoc[ManagedPolicy](d)
	if err != nil {
		return "", err
	}
	return p.ARN, nil
}

func (s *Service) bootPolicy(ctx context.Context, bp BootstrapPolicy) error {
	doc := string(bp.Document)
	cur, err := s.Policy(ctx, arnFor(s.account, "policy", orSlash(bp.Path), bp.Name))
	if errors.Is(err, ErrNoSuchEntity) {
		if d, err := s.store.Doc(ctx, DocPolicy, docName(bp.Name)); err == nil {
			p, _ := unmarshalDoc[ManagedPolicy](d)
			if p != nil {
				return fmt.Errorf("exists with path %s; delete it or change the path in the file", p.Path)
			}
		}
		_, err = s.CreatePolicy(ctx, CreatePolicyInput{Name: bp.Name, Path: bp.Path, Document: doc, Description: bp.Description, Tags: bp.Tags})
		return err
	}
	if err != nil {
		return err
	}
	if def := cur.Default(); def == nil || !sameJSON(def.Document, doc) {
		if err := checkManagedDocument(doc); err != nil {
			return err
		}
		_, err = s.updatePolicy(ctx, cur.ARN, func(p *ManagedPolicy) error {
			for len(p.Versions) >= maxPolicyVersions {
				i := slices.IndexFunc(p.Versions, func(v PolicyVersion) bool { return v.ID != p.DefaultVersion })
				p.Versions = slices.Delete(p.Versions, i, i+1)
			}
			now := s.timestamp()
			v := PolicyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: doc, CreatedAt: now}
			p.NextVersion++
			p.Versions = append(p.Versions, v)
			p.DefaultVersion, p.UpdatedAt = v.ID, now
			p.Description, p.Tags = bp.Description, bp.Tags
			return nil
		})
		return err
	}
	if cur.Description != bp.Description || !slices.Equal(cur.Tags, bp.Tags) {
		if err := CheckTags(bp.Tags); err != nil {
			return err
		}
		_, err = s.updatePolicy(ctx, cur.ARN, func(p *ManagedPolicy) error {
			p.Description, p.Tags = bp.Description, bp.Tags
			return nil
		})
	}
	return err
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func (s *Service) bootProvider(ctx context.Context, bp BootstrapProvider, dir string) error {
	jwks := string(bp.JWKS)
	if bp.JWKSFile != "" {
		if jwks != "" {
			return errors.New("give jwksFile or jwks, not both")
		}
		path := bp.JWKSFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		jwks = string(b)
	}
	if err := checkIssuerURL(bp.URL); err != nil {
		return err
	}
	key := ProviderKey(bp.URL)
	d, err := s.store.Doc(ctx, DocOIDC, key)
	if errors.Is(err, ErrNoSuchDoc) {
		_, err = s.CreateOIDCProvider(ctx, OIDCProviderInput{URL: bp.URL, ClientIDs: bp.ClientIDs, Thumbprints: bp.Thumbprints, Tags: bp.Tags, JWKS: jwks, JWKSURI: bp.JWKSURI})
		return err
	}
	if err != nil {
		return err
	}
	p, err := unmarshalDoc[OIDCProvider](d)
	if err != nil {
		return err
	}
	if jwks != "" {
		if _, err := ParseJWKS([]byte(jwks)); err != nil {
			return err
		}
	}
	if err := CheckTags(bp.Tags); err != nil {
		return err
	}
	if bp.JWKSURI != "" {
		if err := checkIssuerURL(bp.JWKSURI); err != nil {
			return errors.New("jwksUri: not an https URL")
		}
	}
	if jwks != "" && bp.JWKSURI != "" {
		return errors.New("give jwksFile, jwks or jwksUri, not several")
	}
	if slices.Equal(p.ClientIDs, bp.ClientIDs) && slices.Equal(p.Thumbprints, bp.Thumbprints) && slices.Equal(p.Tags, []Tag(bp.Tags)) && p.JWKS == jwks && p.JWKSURI == bp.JWKSURI {
		return nil
	}
	p.ClientIDs, p.Thumbprints, p.Tags, p.JWKS, p.JWKSURI = bp.ClientIDs, bp.Thumbprints, bp.Tags, jwks, bp.JWKSURI
	return s.putOIDC(ctx, p)
}

func (s *Service) bootEntity(ctx context.Context, kind EntityKind, be BootstrapEntity) error {
	boundary := ""
	if be.PermissionsBoundary != "" {
		arn, err := s.resolvePolicyRef(ctx, be.PermissionsBoundary)
		if err != nil {
			return err
		}
		if _, err := s.attachable(ctx, arn); err != nil {
			return err
		}
		boundary = arn
	}
	var attached []string
	for _, ref := range be.ManagedPolicies {
		arn, err := s.resolvePolicyRef(ctx, ref)
		if err != nil {
			return err
		}
		if _, err := s.attachable(ctx, arn); err != nil {
			return err
		}
		if !slices.Contains(attached, arn) {
			attached = append(attached, arn)
		}
	}
	if len(attached) > maxAttachedPolicies {
		return errorf(ErrLimitExceeded, "Cannot exceed quota for PoliciesPer%s: %d", quotaNoun(kind), maxAttachedPolicies)
	}
	names := make([]string, 0, len(be.InlinePolicies))
	for n := range be.InlinePolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	var inline []InlinePolicy
	total := 0
	for _, n := range names {
		doc := string(be.InlinePolicies[n])
		if err := checkName("policyName", n, 128); err != nil {
			return err
		}
		if _, err := parsePolicy(doc, iam.KindIdentity); err != nil {
			return err
		}
		total += nonSpaceLen(doc)
		inline = append(inline, InlinePolicy{Name: n, Document: doc})
	}
	if err := CheckTags(be.Tags); err != nil {
		return err
	}
	if kind == KindRole {
		if be.AssumeRolePolicy == "" {
			return errors.New("assumeRolePolicy is required")
		}
		if err := s.checkTrustPolicy(ctx, string(be.AssumeRolePolicy)); err != nil {
			return err
		}
	}
	_, err := s.entity(ctx, kind, be.Name)
	if errors.Is(err, ErrNoSuchEntity) {
		_, err = s.CreateEntity(ctx, CreateEntityInput{Kind: kind, Name: be.Name, Path: be.Path, Tags: be.Tags,
			TrustPolicy: string(be.AssumeRolePolicy), Description: be.Description, MaxSessionDuration: be.MaxSessionDuration})
	}
	if err != nil {
		return err
	}
	_, err = s.updateEntity(ctx, kind, be.Name, func(e *Entity) error {
		if e.Path != orSlash(be.Path) {
			return fmt.Errorf("exists with path %s; delete it or change the path in the file", e.Path)
		}
		limit := maxInlineUserPolicies
		if kind == KindRole {
			limit = maxInlineRolePolicies
			e.TrustPolicy = string(be.AssumeRolePolicy)
			e.Description = be.Description
			if be.MaxSessionDuration != 0 {
				e.MaxSessionDuration = be.MaxSessionDuration
			}
		}
		if total > limit {
			return errorf(ErrLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", limit, kind, e.Name)
		}
		e.Tags, e.Inline, e.Attached, e.Boundary = be.Tags, inline, attached, boundary
		return nil
	})
	return err
}
