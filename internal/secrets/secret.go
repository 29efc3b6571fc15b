// Package secrets owns Secrets Manager's domain: secrets, their versions and
// staging labels, deletion and restore, list filters and random passwords.
//
// It knows nothing about HTTP or SQL: the edge (awsapi) translates wire
// requests into calls on Service, and a Store (sqlite, postgres) persists the
// Secret aggregate. Values are sealed with envelope encryption before they
// reach a Store; a Store only ever sees ciphertext.
package secrets

import "time"

// Well-known staging labels.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
	StagePending  = "AWSPENDING"
)

// Secret is the persisted aggregate for one secret: its metadata and the
// metadata of all its versions. Sealed version payloads are stored
// separately (Store.Payload) because they are large and read one at a time.
//
// A Secret obtained from a Store is shared and must be treated as read-only;
// Store.Update hands its callback a private copy.
//
// The JSON field names are a persistence contract: stores serialize the
// aggregate with encoding/json.
type Secret struct {
	ARN         string `json:"arn"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// KmsKeyID is the key the user asked for, as given (id, ARN, alias or
	// alias ARN); empty means the default key aws/secretsmanager.
	KmsKeyID string `json:"kmsKeyId,omitempty"`
	// Type is the managed external secret type (CreateSecret Type).
	Type string `json:"type,omitempty"`
	// Tags in insertion order. TagsSet records that the secret has been
	// tagged at least once: AWS omits Tags for never-tagged secrets but
	// returns an empty list once all tags were removed.
	Tags    []Tag `json:"tags,omitempty"`
	TagsSet bool  `json:"tagsSet,omitempty"`

	CreatedAt     time.Time `json:"createdAt"`
	LastChangedAt time.Time `json:"lastChangedAt"`
	// LastAccessedAt is midnight UTC of the day of the last GetSecretValue
	// (zero if never read). Stores keep it outside the aggregate document so
	// that recording a read never conflicts with an Update.
	LastAccessedAt time.Time `json:"-"`
	// DeletedAt is set while the secret is scheduled for deletion;
	// PurgeAt is when the background purge removes it.
	DeletedAt time.Time `json:"deletedAt,omitzero"`
	PurgeAt   time.Time `json:"purgeAt,omitzero"`

	// Versions in creation order (oldest first).
	Versions []Version `json:"versions,omitempty"`

	// Rotation configuration (RotateSecret comes in a later issue; the
	// fields exist so DescribeSecret can render them once they are set).
	Rotation *Rotation `json:"rotation,omitempty"`

	// ResourcePolicy is the secret's resource-based policy document, if any.
	ResourcePolicy string `json:"resourcePolicy,omitempty"`
}

// Tag is a secret tag. Keys are case-sensitive.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Version is the metadata of one secret version.
type Version struct {
	ID        string    `json:"id"`
	Stages    []string  `json:"stages,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// KmsKeyARN is the ARN of the KMS key that wrapped this version's data key.
	KmsKeyARN string `json:"kmsKeyArn,omitempty"`
	// LastAccessedAt: see Secret.LastAccessedAt; kept outside the document.
	LastAccessedAt time.Time `json:"-"`
	// NoValue marks a version that exists without a value (rotation's
	// AWSPENDING placeholder). Such a version has no payload.
	NoValue bool `json:"noValue,omitempty"`
}

// Rotation is a secret's rotation configuration and state.
type Rotation struct {
	Enabled        bool      `json:"enabled"`
	LambdaARN      string    `json:"lambdaArn,omitempty"`
	AfterDays      int64     `json:"afterDays,omitempty"`
	Duration       string    `json:"duration,omitempty"`
	Schedule       string    `json:"schedule,omitempty"`
	LastRotatedAt  time.Time `json:"lastRotatedAt,omitzero"`
	NextRotationAt time.Time `json:"nextRotationAt,omitzero"`
}

// Deleted reports whether the secret is scheduled for deletion.
func (s *Secret) Deleted() bool { return !s.DeletedAt.IsZero() }

// Version returns the version with the given id, or nil.
func (s *Secret) Version(id string) *Version {
	for i := range s.Versions {
		if s.Versions[i].ID == id {
			return &s.Versions[i]
		}
	}
	return nil
}

// Staged returns the version that carries the given staging label, or nil.
func (s *Secret) Staged(label string) *Version {
	for i := range s.Versions {
		for _, l := range s.Versions[i].Stages {
			if l == label {
				return &s.Versions[i]
			}
		}
	}
	return nil
}

// Clone returns a deep copy that the caller may modify.
func (s *Secret) Clone() *Secret {
	c := *s
	c.Tags = append([]Tag(nil), s.Tags...)
	if s.Versions != nil {
		c.Versions = make([]Version, len(s.Versions))
		for i, v := range s.Versions {
			v.Stages = append([]string(nil), v.Stages...)
			c.Versions[i] = v
		}
	}
	if s.Rotation != nil {
		r := *s.Rotation
		c.Rotation = &r
	}
	return &c
}
