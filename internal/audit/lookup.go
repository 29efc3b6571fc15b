package audit

import "unicode/utf8"

// LookupKeys are an event's CloudTrail lookup attributes (LookupEvents'
// EventId, EventName, EventSource, AccessKeyId, Username, ReadOnly,
// ResourceName, ResourceType) and its time, taken from the Event itself:
// what a reader of the rendered body finds (auditlog.Attrs), without
// reading it back. The strings alias the event's.
type LookupKeys struct {
	Unix                                                   int64 // eventTime, seconds since 1970
	EventID, EventName, EventSource, AccessKeyID, Username string
	ReadOnly                                               bool
	Resources                                              []Resource
	// ErrorCode and SourceIP are not LookupEvents attributes; the
	// PostgreSQL store keeps them in columns for coffer audit query.
	ErrorCode, SourceIP string
}

// LookupKeys returns e's lookup keys, or false when a body rendered from e
// would not hold them as they are: a string that is not valid UTF-8 is
// written with U+FFFD in place of the bad bytes, so only a read of the
// body tells what it holds.
func (e *Event) LookupKeys() (LookupKeys, bool) {
	k := LookupKeys{
		Unix:        e.EventTime.Unix(),
		EventID:     e.EventID,
		EventName:   e.EventName,
		EventSource: e.EventSource,
		AccessKeyID: e.UserIdentity.AccessKeyID,
		Username:    e.UserIdentity.LookupName(),
		ReadOnly:    e.ReadOnly,
		Resources:   e.Resources,
		ErrorCode:   e.ErrorCode,
		SourceIP:    e.SourceIPAddress,
	}
	ok := utf8.ValidString(k.EventID) && utf8.ValidString(k.EventName) && utf8.ValidString(k.EventSource) &&
		utf8.ValidString(k.AccessKeyID) && utf8.ValidString(k.Username) &&
		utf8.ValidString(k.ErrorCode) && utf8.ValidString(k.SourceIP)
	for i := 0; ok && i < len(k.Resources); i++ {
		ok = utf8.ValidString(k.Resources[i].ARN) && utf8.ValidString(k.Resources[i].Type)
	}
	return k, ok
}
