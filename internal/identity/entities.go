package identity

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Tag is an IAM or session tag. Keys are unique case-insensitively.
type Tag struct {
	Key   string `json:"k" yaml:"key"`
	Value string `json:"v" yaml:"value"`
}

// InlinePolicy is a policy embedded in a user or role.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
}

// EntityKind says whether an Entity is a user or a role.
type EntityKind string

const (
	KindUser EntityKind = DocUser
	KindRole EntityKind = DocRole
)

// Entity is an IAM user or role: the principals that carry policies. The
// JSON names are a persistence contract.
type Entity struct {
	Kind      EntityKind `json:"kind"`
	Name      string     `json:"name"`
	ID        string     `json:"id"` // AIDA… (user) or AROA… (role)
	Path      string     `json:"path"`
	ARN       string     `json:"arn"`
	CreatedAt time.Time  `json:"createdAt"`
	Tags      []Tag      `json:"tags,omitempty"`
	// Boundary is the ARN of the permissions boundary policy, if any.
	Boundary string         `json:"boundary,omitempty"`
	Inline   []InlinePolicy `json:"inline,omitempty"`
	// Attached lists managed policy ARNs in attachment order.
	Attached []string `json:"attached,omitempty"`

	// Roles only.
	TrustPolicy        string `json:"trustPolicy,omitempty"`
	Description        string `json:"description,omitempty"`
	MaxSessionDuration int    `json:"maxSessionDuration,omitempty"` // seconds
}

// ManagedPolicy is a customer managed policy with its versions.
type ManagedPolicy struct {
	Name           string          `json:"name"`
	ID             string          `json:"id"` // ANPA…
	Path           string          `json:"path"`
	ARN            string          `json:"arn"`
	Description    string          `json:"description,omitempty"`
	CreatedAt      time.Time       `json:"createdAt"`
	UpdatedAt      time.Time       `json:"updatedAt"`
	DefaultVersion string          `json:"defaultVersion"`
	Versions       []PolicyVersion `json:"versions"`
	NextVersion    int             `json:"nextVersion"`
	Tags           []Tag           `json:"tags,omitempty"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID        string    `json:"id"` // v1, v2, …
	Document  string    `json:"doc"`
	CreatedAt time.Time `json:"createdAt"`
}

// Default returns the default version's document.
func (p *ManagedPolicy) Default() *PolicyVersion { return p.Version(p.DefaultVersion) }

// Version returns the version with this id, or nil.
func (p *ManagedPolicy) Version(id string) *PolicyVersion {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

// OIDCProvider is an OpenID Connect identity provider that
// AssumeRoleWithWebIdentity trusts.
type OIDCProvider struct {
	ARN string `json:"arn"`
	// URL is the issuer URL as registered (https://host/path).
	URL         string    `json:"url"`
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"` // accepted and ignored
	CreatedAt   time.Time `json:"createdAt"`
	Tags        []Tag     `json:"tags,omitempty"`
	// JWKS is a static JSON Web Key Set (from the bootstrap file).
	JWKS string `json:"jwks,omitempty"`
	// JWKSURI is where the key set is fetched from instead of through
	// OIDC discovery (bootstrap jwksUri, or the tag coffer:jwks-uri).
	// With neither JWKS nor JWKSURI the keys are discovered from the
	// issuer.
	JWKSURI string `json:"jwksUri,omitempty"`
}

// JWKSURITag is the provider tag that sets OIDCProvider.JWKSURI through
// CreateOpenIDConnectProvider (a Coffer extension; AWS has no such
// parameter).
const JWKSURITag = "coffer:jwks-uri"

// Key is what trust-policy condition keys are prefixed with and what the
// provider ARN ends in: the URL without its scheme ("host/path").
func (p *OIDCProvider) Key() string { return ProviderKey(p.URL) }

// ProviderKey strips the scheme and a trailing slash from an issuer URL.
func ProviderKey(url string) string {
	k := url
	if i := strings.Index(k, "://"); i >= 0 {
		k = k[i+3:]
	}
	return strings.TrimSuffix(k, "/")
}

// Session is the state of one role session, stored with its access key.
type Session struct {
	RoleName string `json:"roleName"`
	RoleARN  string `json:"roleArn"`
	RoleID   string `json:"roleId"`
	Name     string `json:"name"` // RoleSessionName
	// TokenHash is HMAC-SHA256 (key derived from the root key) of the
	// access key id and the session token; the token itself is not stored.
	TokenHash []byte    `json:"tokenHash"`
	IssuedAt  time.Time `json:"issuedAt"`
	Expires   time.Time `json:"expires"`
	// Policy is the inline session policy, PolicyARNs the managed session
	// policies; both empty means no session policy.
	Policy         string   `json:"policy,omitempty"`
	PolicyARNs     []string `json:"policyArns,omitempty"`
	Tags           []Tag    `json:"tags,omitempty"`
	TransitiveKeys []string `json:"transitiveKeys,omitempty"`
	SourceIdentity string   `json:"sourceIdentity,omitempty"`
	// Chained: made with role-session credentials (role chaining).
	Chained bool `json:"chained,omitempty"`
	// WebIdentity is set for AssumeRoleWithWebIdentity sessions.
	WebIdentity *WebIdentity `json:"webIdentity,omitempty"`
}

// WebIdentity records who a web-identity session was issued to.
type WebIdentity struct {
	ProviderARN string `json:"providerArn"`
	Subject     string `json:"subject"`
	Audience    string `json:"audience"`
}

// SessionARN returns the session's ARN (arn:aws:sts::ACCT:assumed-role/ROLE/NAME).
func SessionARN(account, roleName, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + roleName + "/" + session
}

// ---- names, paths, ARNs ----

var (
	nameRE       = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathRE       = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
	policyPathRE = regexp.MustCompile(`^((/[A-Za-z0-9.,+@=_-]+)*)/$`)
	tagRE        = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// arnFor returns arn:aws:iam::ACCT:<res><path><name>.
func arnFor(account, res, path, name string) string {
	return "arn:aws:iam::" + account + ":" + res + path + name
}

// ParseIAMARN splits arn:aws:iam::ACCT:<type>/<path…>/<name> into the
// account, the type (user, role, policy, oidc-provider) and the name (the
// last path element; for oidc-provider everything after the type).
func ParseIAMARN(arn string) (account, typ, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok {
		return "", "", "", false
	}
	typ, tail, ok := strings.Cut(res, "/")
	if !ok || tail == "" {
		return "", "", "", false
	}
	if typ == "oidc-provider" {
		return account, typ, tail, true
	}
	if i := strings.LastIndexByte(tail, '/'); i >= 0 {
		tail = tail[i+1:]
	}
	return account, typ, tail, tail != ""
}

// docName is the store key of a named entity: IAM names are unique
// case-insensitively.
func docName(name string) string { return strings.ToLower(name) }

func randRev() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

func marshalDoc(kind, name string, v any) (*Doc, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Doc{Kind: kind, Name: name, Rev: randRev(), Body: body}, nil
}

func unmarshalDoc[T any](d *Doc) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(d.Body, v); err != nil {
		return nil, fmt.Errorf("identity: corrupt %s document %q: %w", d.Kind, d.Name, err)
	}
	return v, nil
}

// listDocs decodes every document of kind, keeping those keep accepts
// (all when keep is nil).
func listDocs[T any](ctx context.Context, store Store, kind string, keep func(*T) bool) ([]*T, error) {
	docs, err := store.ListDocs(ctx, kind)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(docs))
	for _, d := range docs {
		v, err := unmarshalDoc[T](d)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func findTag(tags []Tag, key string) int {
	for i := range tags {
		if strings.EqualFold(tags[i].Key, key) {
			return i
		}
	}
	return -1
}

// mergeTags adds or overwrites tags (keys compared case-insensitively).
func mergeTags(tags, add []Tag) []Tag {
	out := append([]Tag(nil), tags...)
	for _, t := range add {
		if i := findTag(out, t.Key); i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(tags []Tag, keys []string) []Tag {
	var out []Tag
	for _, t := range tags {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}
