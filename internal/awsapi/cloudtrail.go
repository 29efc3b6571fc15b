package awsapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

// CloudTrail's LookupEvents over the audit trail (JSON 1.1), so that
// `aws cloudtrail lookup-events` works against Coffer. The wire types are
// written by hand from the botocore model (cloudtrail 2013-11-01): one
// operation does not justify a generated package.

const (
	svcCloudTrail    = "cloudtrail"
	targetCloudTrail = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
)

// Lookup limits (model: MaxResults 1–50, AttributeValue 1–2000).
const (
	ctMaxResults     = 50
	ctMaxValueLength = 2000
)

func (s *Server) registerCloudTrail() {
	s.ops[targetCloudTrail+".LookupEvents"] = &operation{
		service: svcCloudTrail, name: "LookupEvents", readOnly: true,
		input: func() validator { return new(ctLookupEventsInput) },
		run:   typed(s.ctLookupEvents),
	}
}

type ctLookupAttribute struct {
	AttributeKey   *string `json:"AttributeKey,omitzero"`
	AttributeValue *string `json:"AttributeValue,omitzero"`
}

// ctLookupEventsInput is LookupEventsRequest.
type ctLookupEventsInput struct {
	LookupAttributes []ctLookupAttribute `json:"LookupAttributes,omitzero"`
	StartTime        *awsjson.Time       `json:"StartTime,omitzero"`
	EndTime          *awsjson.Time       `json:"EndTime,omitzero"`
	EventCategory    *string             `json:"EventCategory,omitzero"`
	MaxResults       *int64              `json:"MaxResults,omitzero"`
	NextToken        *string             `json:"NextToken,omitzero"`
}

// Validate accepts every decodable request: CloudTrail reports bad
// lookups with its own exception types, which the handler returns.
func (in *ctLookupEventsInput) Validate() error { return nil }

// AuditParams returns the request parameters as CloudTrail records them.
func (in *ctLookupEventsInput) AuditParams() map[string]any {
	p := make(awsjson.Params, 5)
	if in.LookupAttributes != nil {
		attrs := make([]any, len(in.LookupAttributes))
		for i, a := range in.LookupAttributes {
			m := make(awsjson.Params, 2)
			m.String("attributeKey", a.AttributeKey)
			m.String("attributeValue", a.AttributeValue)
			attrs[i] = map[string]any(m)
		}
		p["lookupAttributes"] = attrs
	}
	p.Time("startTime", in.StartTime)
	p.Time("endTime", in.EndTime)
	p.String("eventCategory", in.EventCategory)
	p.Int("maxResults", in.MaxResults)
	return p.OrNil()
}

// ctLookupEventsOutput is LookupEventsResponse.
type ctLookupEventsOutput struct {
	Events    []ctEvent `json:"Events"`
	NextToken *string   `json:"NextToken,omitzero"`
}

type ctEvent struct {
	EventId         *string       `json:"EventId,omitzero"`
	EventName       *string       `json:"EventName,omitzero"`
	ReadOnly        *string       `json:"ReadOnly,omitzero"`
	AccessKeyId     *string       `json:"AccessKeyId,omitzero"`
	EventTime       *awsjson.Time `json:"EventTime,omitzero"`
	EventSource     *string       `json:"EventSource,omitzero"`
	Username        *string       `json:"Username,omitzero"`
	Resources       []ctResource  `json:"Resources,omitzero"`
	CloudTrailEvent *string       `json:"CloudTrailEvent,omitzero"`
}

type ctResource struct {
	ResourceType *string `json:"ResourceType,omitzero"`
	ResourceName *string `json:"ResourceName,omitzero"`
}

var ctLookupKeys = toSet("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId")

func (s *Server) ctLookupEvents(ctx context.Context, c *call, in *ctLookupEventsInput) (any, error) {
	if err := s.authorize(ctx, c, "cloudtrail:LookupEvents", "*", nil); err != nil {
		return nil, err
	}
	if s.cfg.Audit == nil {
		return nil, clientErr("OperationNotPermittedException", "The audit trail is turned off on this server.")
	}
	limit := ctMaxResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > ctMaxResults {
			return nil, clientErr("InvalidMaxResultsException", "Value for MaxResults must be between 1 and 50.")
		}
		limit = int(*in.MaxResults)
	}
	var key, value string
	switch len(in.LookupAttributes) {
	case 0:
	case 1:
		a := in.LookupAttributes[0]
		key, value = deref(a.AttributeKey), deref(a.AttributeValue)
		if !ctLookupKeys[key] {
			return nil, clientErr("InvalidLookupAttributesException", "Invalid attribute key: "+strconv.Quote(clip(key, 64))+". Valid keys are EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource and AccessKeyId.")
		}
		if value == "" || len(value) > ctMaxValueLength {
			return nil, clientErr("InvalidLookupAttributesException", "The attribute value must be between 1 and 2000 characters.")
		}
		if key == "ReadOnly" && value != "true" && value != "false" {
			return nil, clientErr("InvalidLookupAttributesException", "The value of the ReadOnly attribute must be true or false.")
		}
	default:
		return nil, clientErr("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
	}
	var start, end time.Time
	if in.StartTime != nil {
		start = in.StartTime.Time
	}
	if in.EndTime != nil {
		end = in.EndTime.Time
	}
	if !start.IsZero() && !end.IsZero() && start.After(end) {
		return nil, clientErr("InvalidTimeRangeException", "The start time must not be after the end time.")
	}
	if in.EventCategory != nil {
		if *in.EventCategory != "insight" {
			return nil, clientErr("InvalidEventCategoryException", "The only event category is insight.")
		}
		return &ctLookupEventsOutput{Events: []ctEvent{}}, nil // Coffer has no Insights events
	}
	fp := lookupFingerprint(key, value, start, end)
	var before uint64
	if in.NextToken != nil {
		var ok bool
		if before, ok = parseLookupToken(*in.NextToken, fp); !ok {
			return nil, clientErr("InvalidNextTokenException", "Invalid NextToken: it is malformed or was issued for other parameters.")
		}
	}
	recs, err := s.cfg.Audit.Store.LookupAudit(ctx, key, value, start, end, before, limit+1)
	if err != nil {
		return nil, err
	}
	out := &ctLookupEventsOutput{Events: make([]ctEvent, 0, min(len(recs), limit))}
	if len(recs) > limit {
		recs = recs[:limit]
		out.NextToken = ptr(lookupToken(recs[limit-1].Seq, fp))
	}
	for i := range recs {
		e, err := lookupEvent(&recs[i])
		if err != nil {
			return nil, err
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// lookupEvent renders one record as a LookupEvents event.
func lookupEvent(r *audit.Record) (ctEvent, error) {
	var ev audit.Event
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		return ctEvent{}, errors.Join(errors.New("audit record "+strconv.FormatUint(r.Seq, 10)+" does not decode"), err)
	}
	e := ctEvent{
		EventId: optStr(ev.EventID), EventName: optStr(ev.EventName),
		ReadOnly: ptr(strconv.FormatBool(ev.ReadOnly)), AccessKeyId: optStr(ev.UserIdentity.AccessKeyID),
		EventTime: awsjson.TimeOf(ev.EventTime.Time), EventSource: optStr(ev.EventSource),
		Username: optStr(AuditUsername(&ev.UserIdentity)), CloudTrailEvent: ptr(string(r.Body)),
	}
	for _, res := range ev.Resources {
		e.Resources = append(e.Resources, ctResource{ResourceType: optStr(res.Type), ResourceName: optStr(res.ARN)})
	}
	return e, nil
}

// A NextToken names the seq to continue below and a fingerprint of the
// query it belongs to (CloudTrail requires the same parameters with it).
func lookupFingerprint(key, value string, start, end time.Time) [8]byte {
	h := sha256.New()
	var b [8]byte
	for _, s := range []string{key, value} {
		binary.BigEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	for _, t := range []time.Time{start, end} {
		var u int64
		if !t.IsZero() {
			u = t.Unix()
		}
		binary.BigEndian.PutUint64(b[:], uint64(u))
		h.Write(b[:])
	}
	return [8]byte(h.Sum(nil))
}

func lookupToken(seq uint64, fp [8]byte) string {
	var b [17]byte
	b[0] = 1
	binary.BigEndian.PutUint64(b[1:], seq)
	copy(b[9:], fp[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func parseLookupToken(tok string, fp [8]byte) (uint64, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) != 17 || b[0] != 1 || [8]byte(b[9:]) != fp {
		return 0, false
	}
	seq := binary.BigEndian.Uint64(b[1:])
	// Only the canonical form (the decoder skips line breaks).
	return seq, seq > 0 && lookupToken(seq, fp) == tok
}
