package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Values CloudTrail uses for the fixed fields of an API-call record.
const (
	// EventVersion is the CloudTrail record format version Coffer writes.
	// (CloudTrail's own current version is higher; 1.08 is the version that
	// introduced tlsDetails, the newest field Coffer emits.)
	EventVersion = "1.08"
	// EventTypeAPICall is eventType for a request to a service API.
	EventTypeAPICall = "AwsApiCall"
	// EventTypeServiceEvent is eventType for an event the service itself
	// emits (rotation, scheduled deletion).
	EventTypeServiceEvent = "AwsServiceEvent"
	// CategoryManagement is eventCategory for management events.
	CategoryManagement = "Management"
)

// Event sources (eventSource) for the APIs Coffer serves.
const (
	SourceSecretsManager = "secretsmanager.amazonaws.com"
	SourceKMS            = "kms.amazonaws.com"
	SourceIAM            = "iam.amazonaws.com"
	SourceSTS            = "sts.amazonaws.com"
	SourceCloudTrail     = "cloudtrail.amazonaws.com"
)

// userIdentity.type values.
const (
	IdentityRoot            = "Root"
	IdentityIAMUser         = "IAMUser"
	IdentityAssumedRole     = "AssumedRole"
	IdentityFederatedUser   = "FederatedUser"
	IdentityWebIdentityUser = "WebIdentityUser"
	IdentityAWSService      = "AWSService"
	IdentityAWSAccount      = "AWSAccount"
	// IdentityUnknown is used when the caller could not be authenticated
	// (missing or bad signature, unknown access key).
	IdentityUnknown = "Unknown"
)

// Event is one audit record in CloudTrail's record shape. JSON field names
// and order follow CloudTrail; optional fields are omitted when empty, as
// CloudTrail omits them. requestParameters and responseElements are always
// present and are null when absent, which is how CloudTrail renders read
// calls (responseElements) and rejected calls (both).
//
// Event must never carry a secret: build RequestParameters with
// [Hasher.ScrubJSON] and leave secret-bearing response fields out of
// ResponseElements.
type Event struct {
	EventVersion     string          `json:"eventVersion"`
	UserIdentity     UserIdentity    `json:"userIdentity"`
	EventTime        Time            `json:"eventTime"`
	EventSource      string          `json:"eventSource"`
	EventName        string          `json:"eventName"`
	AWSRegion        string          `json:"awsRegion"`
	SourceIPAddress  string          `json:"sourceIPAddress"`
	UserAgent        string          `json:"userAgent"`
	ErrorCode        string          `json:"errorCode,omitempty"`
	ErrorMessage     string          `json:"errorMessage,omitempty"`
	RequestParams    json.RawMessage `json:"requestParameters"`
	ResponseElements json.RawMessage `json:"responseElements"`
	// AdditionalEventData is free-form data that is neither request nor
	// response (CloudTrail uses it for service events).
	AdditionalEventData json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID,omitempty"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           []Resource      `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	APIVersion          string          `json:"apiVersion,omitempty"`
	ManagementEvent     bool            `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID,omitempty"`
	EventCategory       string          `json:"eventCategory"`
	TLSDetails          *TLSDetails     `json:"tlsDetails,omitempty"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	// Type is one of the Identity* constants.
	Type        string `json:"type"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	// AccessKeyID is the access key that signed the request (never the
	// secret key, never the session token).
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
	// IdentityProvider is set for WebIdentityUser (the token issuer).
	IdentityProvider string `json:"identityProvider,omitempty"`
}

// LookupName is the user name CloudTrail's LookupEvents matches (its
// Username attribute): the IAM user name; "root" for the account root;
// for role sessions and federated and web-identity users, what follows
// the last "/" of the ARN (the session name); else "" (unauthenticated
// requests). auditlog.Attrs.Username reads the same from an event body.
func (u *UserIdentity) LookupName() string {
	switch {
	case u.UserName != "":
		return u.UserName
	case u.Type == IdentityRoot:
		return "root"
	case u.Type == IdentityAssumedRole || u.Type == IdentityFederatedUser || u.Type == IdentityWebIdentityUser:
		if i := strings.LastIndexByte(u.ARN, '/'); i >= 0 {
			return u.ARN[i+1:]
		}
	}
	return ""
}

// SessionContext describes the temporary-credential session a request was
// made with.
type SessionContext struct {
	SessionIssuer *SessionIssuer `json:"sessionIssuer,omitempty"`
	// WebIDFederationData is set for sessions from AssumeRoleWithWebIdentity.
	// CloudTrail renders it as {} for other role sessions; set a non-nil
	// empty value to reproduce that.
	WebIDFederationData *WebIDFederationData `json:"webIdFederationData,omitempty"`
	Attributes          SessionAttributes    `json:"attributes"`
}

// SessionIssuer is the principal that issued a session (for AssumedRole,
// the role).
type SessionIssuer struct {
	Type        string `json:"type"` // "Role", "IAMUser" or "Root"
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// WebIDFederationData names the identity provider of a web-identity session.
type WebIDFederationData struct {
	FederatedProvider string            `json:"federatedProvider,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
}

// SessionAttributes are the session's creation time and MFA state.
// CloudTrail renders mfaAuthenticated as the string "true" or "false".
type SessionAttributes struct {
	CreationDate     Time `json:"creationDate,omitzero"`
	MFAAuthenticated bool `json:"mfaAuthenticated,string"`
}

// Resource is one entry of the resources list.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"` // e.g. "AWS::KMS::Key"
}

// TLSDetails describes the TLS connection the request arrived on.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion,omitempty"`
	CipherSuite              string `json:"cipherSuite,omitempty"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader,omitempty"`
	// KeyExchange is the TLS key exchange group, e.g. "X25519MLKEM768".
	KeyExchange string `json:"keyExchange,omitempty"`
}

// NewAPICallEvent returns an Event with the fixed fields of an API-call
// record filled in: eventVersion, a fresh eventID, eventTime (now, UTC,
// truncated to the second), eventType, eventCategory and managementEvent.
func NewAPICallEvent(now time.Time) *Event {
	e := new(Event)
	e.InitAPICall(now)
	return e
}

// InitAPICall sets e to an API-call event as NewAPICallEvent returns it,
// for callers that keep the Event in storage of their own (the edge keeps
// it on the stack: one allocation less per request).
func (e *Event) InitAPICall(now time.Time) {
	*e = Event{
		EventVersion:    EventVersion,
		EventTime:       TimeOf(now),
		EventID:         NewEventID(),
		EventType:       EventTypeAPICall,
		ManagementEvent: true,
		EventCategory:   CategoryManagement,
	}
}

// Marshal renders the event as compact JSON without HTML escaping (so "<",
// ">" and "&" stay as they are, like CloudTrail): the bytes encoding/json
// produces with SetEscapeHTML(false), several times faster. The result is a
// valid record body. RequestParams, ResponseElements and
// AdditionalEventData must be valid JSON in valid UTF-8 (they are
// compacted; output of ScrubJSON qualifies).
func (e *Event) Marshal() ([]byte, error) {
	bp := marshalBufs.Get().(*[]byte)
	b, err := appendEvent((*bp)[:0], e)
	out := bytes.Clone(b)
	if cap(b) <= 64<<10 {
		*bp = b
		marshalBufs.Put(bp)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendJSON appends what Marshal returns to b, for callers that recycle
// their buffers. On error b's contents past its old length are undefined.
func (e *Event) AppendJSON(b []byte) ([]byte, error) { return appendEvent(b, e) }

// marshalBufs recycles encoding buffers; Marshal returns an exact-size copy.
var marshalBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// NewEventID returns a random (version 4) UUID in its canonical lowercase
// form, as CloudTrail's eventID.
func NewEventID() string {
	var u [16]byte
	rand.Read(u[:])         // never fails (crypto/rand, Go ≥ 1.24)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}

// TimeFormat is CloudTrail's timestamp layout: UTC, second precision.
const TimeFormat = "2006-01-02T15:04:05Z"

// Time is a timestamp rendered the way CloudTrail renders eventTime:
// "2024-01-02T03:04:05Z" (UTC, whole seconds).
type Time struct{ time.Time }

// TimeOf converts t to UTC and truncates it to the second.
func TimeOf(t time.Time) Time { return Time{t.UTC().Truncate(time.Second)} }

// String returns the CloudTrail rendering.
func (t Time) String() string { return t.UTC().Format(TimeFormat) }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeFormat)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeFormat)
	return append(b, '"'), nil
}

// errTime is returned for a timestamp that is neither CloudTrail's layout
// nor RFC 3339.
var errTime = errors.New("audit: invalid timestamp")

// UnmarshalJSON implements json.Unmarshaler. It accepts CloudTrail's layout,
// any RFC 3339 time, and the ISO 8601 basic form ("20131102T010628Z") found
// in older creationDate values.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: %w", errTime, err)
	}
	for _, layout := range []string{time.RFC3339Nano, "20060102T150405Z"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = TimeOf(v)
			return nil
		}
	}
	return errTime
}
