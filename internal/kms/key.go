// Package kms owns Coffer's key management service: KMS keys and their
// material versions, aliases, key states, rotation, and the cryptographic
// operations (Encrypt, Decrypt, GenerateDataKey, …) with AWS KMS semantics.
//
// Key material is generated here and stored only wrapped by the root key
// (keyring.Root), bound to the key id and material sequence. Ciphertext blobs
// are self-describing: they carry the key id and the material sequence they
// were made with, authenticated, so Decrypt needs no KeyId and rotation never
// breaks old ciphertexts.
package kms

import (
	"slices"
	"time"
)

// State is a KMS key state.
type State string

const (
	StateEnabled         State = "Enabled"
	StateDisabled        State = "Disabled"
	StatePendingDeletion State = "PendingDeletion"
)

// Manager says who manages a key.
type Manager string

const (
	ManagerCustomer Manager = "CUSTOMER"
	ManagerAWS      Manager = "AWS"
)

// Key is the persisted aggregate for one KMS key. Keys returned by a Store
// are shared and read-only; Store.UpdateKey hands its callback a copy.
// The JSON names are a persistence contract.
type Key struct {
	ID          string    `json:"id"`
	ARN         string    `json:"arn"`
	Account     string    `json:"account"`
	Description string    `json:"description,omitempty"`
	State       State     `json:"state"`
	Manager     Manager   `json:"manager"`
	Origin      string    `json:"origin"`
	Spec        string    `json:"spec"`
	Usage       string    `json:"usage"`
	CreatedAt   time.Time `json:"createdAt"`
	// DeletionDate is set while the key is PendingDeletion.
	DeletionDate      time.Time `json:"deletionDate,omitzero"`
	PendingWindowDays int       `json:"pendingWindowDays,omitempty"`
	Policy            string    `json:"policy"`
	Tags              []Tag     `json:"tags,omitempty"`

	RotationEnabled    bool      `json:"rotationEnabled,omitempty"`
	RotationPeriodDays int       `json:"rotationPeriodDays,omitempty"`
	NextRotation       time.Time `json:"nextRotation,omitzero"`
	OnDemandRotations  int       `json:"onDemandRotations,omitempty"`
	OnDemandStartedAt  time.Time `json:"onDemandStartedAt,omitzero"`

	// Materials in creation order; the last one is current.
	Materials []Material `json:"materials"`
}

// DueAt is when a background job must next look at the key: the deletion
// date of a key pending deletion, the next automatic rotation of an
// enabled key with rotation on, and zero for everything else (disabled
// keys are not rotated; re-enabling an overdue key makes it due at once).
// Stores index it (Store.DueKeys).
func (k *Key) DueAt() time.Time {
	switch {
	case k.State == StatePendingDeletion:
		return k.DeletionDate
	case k.State == StateEnabled && k.RotationEnabled:
		return k.NextRotation
	}
	return time.Time{}
}

// AWSManaged reports whether the key is managed by a service (the
// Secrets Manager default key) rather than by its users.
func (k *Key) AWSManaged() bool { return k.Manager == ManagerAWS }

// Material is one version of a key's secret material, wrapped by the root key.
type Material struct {
	Seq uint32 `json:"seq"`
	// ID is the 64-hex-digit KeyMaterialId AWS shows.
	ID        string    `json:"id"`
	Wrapped   []byte    `json:"wrapped"`
	RootKeyID string    `json:"rootKeyId"`
	CreatedAt time.Time `json:"createdAt"`
	// Rotation is "" for the original material, else RotationAutomatic
	// or RotationOnDemand; CreatedAt is then the rotation date.
	Rotation string `json:"rotation,omitempty"`
}

// Rotation types of a material made by rotation.
const (
	RotationAutomatic = "AUTOMATIC"
	RotationOnDemand  = "ON_DEMAND"
)

// Tag is a KMS resource tag (TagKey/TagValue on the wire).
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// Alias maps an alias name (alias/…) to a key.
type Alias struct {
	Name        string    `json:"name"`
	TargetKeyID string    `json:"targetKeyId"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Current returns the current material, or nil for a key without material.
func (k *Key) Current() *Material {
	if len(k.Materials) == 0 {
		return nil
	}
	return &k.Materials[len(k.Materials)-1]
}

// Material returns the material with sequence seq, or nil.
func (k *Key) Material(seq uint32) *Material {
	for i := range k.Materials {
		if k.Materials[i].Seq == seq {
			return &k.Materials[i]
		}
	}
	return nil
}

// Clone returns a deep copy the caller may modify.
func (k *Key) Clone() *Key {
	c := *k
	c.Tags = slices.Clone(k.Tags)
	c.Materials = slices.Clone(k.Materials)
	return &c
}
