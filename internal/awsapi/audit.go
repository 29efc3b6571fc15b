package awsapi

import (
	"context"
	"crypto/tls"
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coffer-dev/coffer/internal/audit"
	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/sigv4"
)

// The audit trail's hook into the edge: every request, whatever its fate,
// becomes one CloudTrail-shaped event staged into a unit of work (see
// server.go: record before Commit on success; fail records failures in a
// unit of their own). A request whose event cannot be staged or committed
// fails, so nothing happens unrecorded.

// AuditStore is the audit sink contract the edge needs from the store (the
// SQLite adapter implements it; a PostgreSQL adapter implements the same).
type AuditStore interface {
	// StageAudit stages one record into the unit of work in ctx (or
	// commits it on its own when ctx carries none). body is an event
	// rendered by audit.Event.Marshal (one line of JSON) and must be stored
	// byte for byte. The store assigns seq/prev/hash in commit order when
	// the unit commits; if the record cannot be written, the unit's commit
	// fails.
	StageAudit(ctx context.Context, body []byte) error
	// LookupAudit returns up to limit records, highest seq first, with
	// seq < before (0: no bound), event time within [start, end] (zero
	// times: unbounded) and, if key != "", the CloudTrail lookup attribute
	// key (EventId, EventName, ReadOnly "true"/"false", Username,
	// ResourceType, ResourceName, EventSource, AccessKeyId) equal to value.
	LookupAudit(ctx context.Context, key, value string, start, end time.Time, before uint64, limit int) ([]audit.Record, error)
}

// AuditConfig turns the audit trail on.
type AuditConfig struct {
	Store AuditStore
	// Hasher HMACs correlatable identifiers (session tokens,
	// ClientRequestTokens) under the server's audit key.
	Hasher *audit.Hasher
}

// callAudit is what a request collects for its audit event while it runs.
type callAudit struct {
	// resources are the concrete ARNs the request was authorized against.
	resources []string
	// params, when set, are the request parameters (CloudTrail style:
	// lower-camel-case names, no secret); otherwise the decoded input's
	// AuditParams are used. For query-protocol (IAM, STS) handlers.
	params map[string]any
}

// auditParamser is implemented by generated inputs.
type auditParamser interface{ AuditParams() map[string]any }

// auditResponder may be implemented by an output to choose its CloudTrail
// responseElements itself (names lower camel case; secrets left out).
type auditResponder interface{ AuditResponse() map[string]any }

// Names scrubbed from request parameters and response elements at any
// depth, case-insensitively: the audit package's defaults, plus STS MFA
// codes (dropped) and KMS grant tokens (bearer tokens: HMAC'd).
var (
	auditDrop = append(audit.DefaultDropParams(), "TokenCode")
	auditHMAC = append(audit.DefaultHMACParams(), "GrantTokens")
)

// maxAuditResources bounds the resources list of one event.
const maxAuditResources = 100

// noteResource remembers a resource the request was authorized against,
// for the event's resources list. Patterns and "*" are not resources.
func (c *call) noteResource(arn string) {
	if !strings.HasPrefix(arn, "arn:") || strings.ContainsAny(arn, "*?") || len(c.audit.resources) >= maxAuditResources {
		return
	}
	for _, r := range c.audit.resources {
		if r == arn {
			return
		}
	}
	c.audit.resources = append(c.audit.resources, arn)
}

// SetAuditParams sets the request parameters recorded for c, for handlers
// whose input has no generated AuditParams (the query protocol). params
// use CloudTrail's lower-camel-case names and must not hold secrets; known
// secret names are dropped and tokens HMAC'd anyway.
func (c *call) SetAuditParams(params map[string]any) { c.audit.params = params }

// record stages the request's audit event into the unit in ctx. out is the
// operation's output (nil on failure), e the error sent (nil on success).
// Every protocol uses it: a query-protocol (IAM, STS) handler sets c.op
// (service "iam"/"sts", Action name, readOnly) and, if its input has no
// AuditParams method, c.SetAuditParams; then, like handleJSON, it calls
// record(ctx, c, out, nil) before committing its unit, and fail(c, e) for
// failures.
func (s *Server) record(ctx context.Context, c *call, out any, e *apiError) error {
	a := s.cfg.Audit
	if a == nil {
		return nil
	}
	var ev audit.Event // on the stack: auditEvent and AppendJSON keep no reference
	if err := s.auditEvent(&ev, c, out, e); err != nil {
		return err
	}
	body, err := c.auditBody(&ev)
	if err != nil {
		return err
	}
	if ks, ok := a.Store.(keyedAuditStore); ok {
		if k, ok := ev.LookupKeys(); ok {
			return ks.StageAuditKeyed(ctx, body, k)
		}
	}
	return a.Store.StageAudit(ctx, body)
}

// keyedAuditStore is implemented by a store that can take a record's
// lookup keys from the event instead of reading them from its body (the
// SQLite adapter's index, the PostgreSQL adapter's lookup columns).
type keyedAuditStore interface {
	StageAuditKeyed(ctx context.Context, body []byte, k audit.LookupKeys) error
}

// auditBufs recycles the buffers of staged audit bodies (events are
// 1–2 KB: this saves their allocation and copy on every request).
var auditBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// auditBody renders ev into a pooled buffer that c holds until
// releaseAudit: the store reads a staged body until its unit commits or
// rolls back (AuditStore.StageAudit), and every unit of a request ends
// before serveAPI returns.
func (c *call) auditBody(ev *audit.Event) ([]byte, error) {
	for i, bp := range c.auditBufs {
		if bp == nil {
			bp = auditBufs.Get().(*[]byte)
			c.auditBufs[i] = bp
			b, err := ev.AppendJSON((*bp)[:0])
			*bp = b[:0] // keep what it grew to
			return b, err
		}
	}
	return ev.Marshal() // a third record in one request: not pooled
}

// releaseAudit returns c's audit buffers to the pool; the request's units
// must all be over.
func (c *call) releaseAudit() {
	for i, bp := range c.auditBufs {
		if bp == nil {
			return
		}
		c.auditBufs[i] = nil
		if cap(*bp) <= 64<<10 {
			auditBufs.Put(bp)
		}
	}
}

// auditEvent builds the event of a request into ev.
func (s *Server) auditEvent(ev *audit.Event, c *call, out any, e *apiError) error {
	h := s.cfg.Audit.Hasher
	ev.InitAPICall(c.start)
	service := c.service
	if service == "" {
		service = serviceOfTarget(c.r)
	}
	ev.EventSource = eventSource(service)
	ev.EventName = c.eventName()
	ev.AWSRegion = s.cfg.Region
	ev.SourceIPAddress = c.sourceIP
	ev.UserAgent = clip(c.userAgent, 1024)
	ev.RequestID = c.requestID
	ev.RecipientAccountID = s.cfg.Account
	if c.op != nil {
		ev.ReadOnly = c.op.readOnly
	}
	auditIdentity(&ev.UserIdentity, c, out)
	if e != nil {
		ev.ErrorCode = e.Type
		ev.ErrorMessage = e.Message
	}

	var err error
	if e == nil || e.Type != "SerializationException" { // a body that did not decode has no parameters
		if ev.RequestParams, err = auditJSON(h, c.requestParams()); err != nil {
			return fmt.Errorf("request parameters: %w", err)
		}
	}
	if e == nil && !ev.ReadOnly && out != nil {
		if ev.ResponseElements, err = auditJSON(h, responseElements(out)); err != nil {
			return fmt.Errorf("response elements: %w", err)
		}
	}
	ev.Resources = auditResources(c, out, e == nil)
	if tok := securityToken(c.r); tok != "" {
		// Session credentials: the token itself never appears; its HMAC
		// lets an operator correlate requests made with one session.
		ev.AdditionalEventData = json.RawMessage(`{"securityToken":"` + h.HMAC(tok) + `"}`)
	}
	if st := c.r.TLS; st != nil {
		ev.TLSDetails = &audit.TLSDetails{
			TLSVersion:               tlsVersionName(st.Version),
			CipherSuite:              tls.CipherSuiteName(st.CipherSuite),
			ClientProvidedHostHeader: clip(c.r.Host, 256),
		}
	}
	return nil
}

func (c *call) requestParams() map[string]any {
	if c.audit.params != nil {
		return c.audit.params
	}
	if p, ok := c.input.(auditParamser); ok {
		return p.AuditParams()
	}
	return nil
}

// auditJSON renders parameters as JSON with secrets dropped and tokens
// HMAC'd (the generated AuditParams already omit sensitive members; this
// is the second line of defence).
func auditJSON(h *audit.Hasher, p map[string]any) (json.RawMessage, error) {
	if len(p) == 0 {
		return nil, nil
	}
	if out, ok := h.ScrubParams(p, auditDrop, auditHMAC); ok {
		return out, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return h.ScrubJSON(b, auditDrop, auditHMAC)
}

// eventSource maps a signing name to CloudTrail's eventSource.
func eventSource(service string) string {
	switch service {
	case svcSecretsManager:
		return audit.SourceSecretsManager
	case svcKMS:
		return audit.SourceKMS
	case svcIAM:
		return audit.SourceIAM
	case svcSTS:
		return audit.SourceSTS
	case svcCloudTrail:
		return audit.SourceCloudTrail
	case "":
		return "unknown"
	}
	return service + ".amazonaws.com"
}

// serviceOfTarget guesses the service of a request that was not routed.
func serviceOfTarget(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(t, targetSecretsManager+"."):
		return svcSecretsManager
	case strings.HasPrefix(t, targetKMS+"."):
		return svcKMS
	case strings.HasPrefix(t, targetCloudTrail+"."):
		return svcCloudTrail
	}
	return ""
}

// eventName is the operation's name; for a request that was not routed,
// the operation it named (letters and digits only, bounded).
func (c *call) eventName() string {
	if c.op != nil {
		return c.op.name
	}
	name := c.r.Header.Get("X-Amz-Target")
	if name == "" && c.r.URL != nil {
		name = c.r.URL.Query().Get("Action")
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return -1
	}, clip(name, 128))
	if name == "" {
		return "UnknownOperation"
	}
	return name
}

// auditIdentity fills u from the authenticated caller; for an unsigned
// request, from the web identity a successful AssumeRoleWithWebIdentity
// accepted; else from the access key the request claimed.
func auditIdentity(u *audit.UserIdentity, c *call, out any) {
	cl := c.caller
	if cl == nil {
		u.Type = audit.IdentityUnknown
		if sub, provider, aud := webIdentityOf(out); sub != "" {
			u.Type = audit.IdentityWebIdentityUser
			u.PrincipalID = provider + ":" + aud + ":" + sub
			u.UserName = sub
			u.IdentityProvider = provider
			return
		}
		if auth, err := sigv4.Parse(c.r); err == nil && looksLikeAccessKeyID(auth.AccessKeyID) {
			u.AccessKeyID = auth.AccessKeyID
		}
		return
	}
	u.Type = cl.Type
	u.PrincipalID = cl.UserID
	u.ARN = cl.ARN
	u.AccountID = cl.Account
	u.AccessKeyID = cl.AccessKeyID
	u.UserName = cl.UserName
	if cl.Type == identity.TypeAssumedRole {
		u.SessionContext = sessionContext(cl)
	}
}

// webIdentityOf returns the subject, provider and audience an
// AssumeRoleWithWebIdentity output names ("" if out is not one).
func webIdentityOf(out any) (sub, provider, aud string) {
	v := reflect.ValueOf(out)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", "", ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return "", "", ""
	}
	str := func(name string) string {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
		return ""
	}
	return str("SubjectFromWebIdentityToken"), str("Provider"), str("Audience")
}

// sessionContext describes a role session: its issuer (the role), its
// creation time and, for web-identity sessions, the provider.
func sessionContext(cl *identity.Caller) *audit.SessionContext {
	sc := &audit.SessionContext{WebIDFederationData: &audit.WebIDFederationData{}}
	if se := cl.Session; se != nil {
		sc.SessionIssuer = &audit.SessionIssuer{Type: "Role", PrincipalID: se.RoleID, ARN: se.RoleARN, AccountID: cl.Account, UserName: se.RoleName}
		sc.Attributes.CreationDate = audit.TimeOf(se.IssuedAt)
		if wi := se.WebIdentity; wi != nil {
			sc.WebIDFederationData.FederatedProvider = wi.ProviderARN
		}
		return sc
	}
	// Without the session record: what the ARN
	// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) and the principal id
	// (ROLEID:SESSION) tell.
	_, rest, ok := strings.Cut(cl.ARN, ":assumed-role/")
	if !ok {
		return sc
	}
	role, _, _ := strings.Cut(rest, "/")
	roleID, _, _ := strings.Cut(cl.UserID, ":")
	sc.SessionIssuer = &audit.SessionIssuer{
		Type: "Role", PrincipalID: roleID, ARN: "arn:aws:iam::" + cl.Account + ":role/" + role,
		AccountID: cl.Account, UserName: role,
	}
	return sc
}

// AuditUsername is the user name LookupEvents matches for an identity
// (audit.UserIdentity.LookupName).
func AuditUsername(u *audit.UserIdentity) string { return u.LookupName() }

// looksLikeAccessKeyID accepts what could be an access key id, so that a
// client that put something else (a secret key by mistake) in the
// credential field does not get it logged.
func looksLikeAccessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// securityToken returns the session token the request carries, if any.
func securityToken(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		return t
	}
	if r.URL != nil && strings.Contains(r.URL.RawQuery, "Security-Token") {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			return q.Get("X-Amz-Security-Token")
		}
	}
	return ""
}

// auditResources lists the resources of a request: what it was authorized
// against and, on success, the ARN its output names.
func auditResources(c *call, out any, ok bool) []audit.Resource {
	arns := c.audit.resources
	if ok && out != nil && len(arns) == 0 {
		// Authorized against a pattern (CreateSecret) or nothing: the
		// output names the resource.
		if arn := outputARN(out); arn != "" {
			arns = []string{arn}
		}
	}
	if len(arns) == 0 {
		return nil
	}
	rs := make([]audit.Resource, len(arns))
	for i, arn := range arns {
		account, typ := arnParts(arn)
		rs[i] = audit.Resource{ARN: arn, AccountID: account, Type: typ}
	}
	return rs
}

// outputARN returns the ARN an output names at its top level (SM: ARN;
// KMS: KeyId, which outputs give as the key ARN) or in KeyMetadata (KMS
// CreateKey), if any.
func outputARN(out any) string {
	v := reflect.ValueOf(out)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, name := range []string{"ARN", "Arn", "KeyId"} {
		if arn := arnField(v.FieldByName(name)); arn != "" {
			return arn
		}
	}
	if md := v.FieldByName("KeyMetadata"); md.IsValid() && md.Kind() == reflect.Pointer && !md.IsNil() && md.Elem().Kind() == reflect.Struct {
		return arnField(md.Elem().FieldByName("Arn"))
	}
	return ""
}

// arnField returns the value of a string or *string field if it is an ARN.
func arnField(f reflect.Value) string {
	if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
		f = f.Elem()
	}
	if f.IsValid() && f.Kind() == reflect.String && strings.HasPrefix(f.String(), "arn:") {
		return f.String()
	}
	return ""
}

// arnParts returns the account of an ARN and CloudTrail's type of the
// resource it names ("" when unknown).
func arnParts(arn string) (account, typ string) {
	// arn:partition:service:region:account:resource
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return "", ""
	}
	var f [4]string
	for i := range f {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return "", ""
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	svc, res := f[1], rest
	switch {
	case svc == "secretsmanager" && strings.HasPrefix(res, "secret:"):
		typ = "AWS::SecretsManager::Secret"
	case svc == "kms" && strings.HasPrefix(res, "key/"):
		typ = "AWS::KMS::Key"
	case svc == "kms" && strings.HasPrefix(res, "alias/"):
		typ = "AWS::KMS::Alias"
	case svc == "iam" && strings.HasPrefix(res, "user/"):
		typ = "AWS::IAM::User"
	case svc == "iam" && strings.HasPrefix(res, "role/"):
		typ = "AWS::IAM::Role"
	case svc == "iam" && strings.HasPrefix(res, "policy/"):
		typ = "AWS::IAM::Policy"
	case svc == "iam" && res == "root":
		typ = "AWS::IAM::Root"
	}
	return f[3], typ
}

// Response elements: an output's identifying, non-secret members, found by
// name (an allowlist, so a member added to an output later stays out until
// someone decides it is safe). Containers are descended into.
var (
	auditRespFields = toSet(
		"ARN", "Arn", "Name", "VersionId", "VersionStages", "DeletionDate",
		"KeyId", "AliasName", "AliasArn", "TargetKeyId", "KeyState", "Enabled", "KeyUsage", "KeySpec",
		"KeyManager", "Origin", "MultiRegion", "Description", "CreationDate", "AWSAccountId",
		"EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms", "PendingWindowInDays",
		"UserName", "UserId", "RoleName", "RoleId", "Path", "PolicyArn", "PolicyName",
		"AccessKeyId", "Status", "CreateDate", "Expiration", "SessionToken", "AssumedRoleId",
		"SubjectFromWebIdentityToken", "Audience", "Provider", "PackedPolicySize", "SourceIdentity",
	)
	auditRespContainers = toSet("KeyMetadata", "AccessKey", "User", "Role", "AssumedRoleUser", "Credentials")
)

func toSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	timeType          = reflect.TypeFor[awsjson.Time]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// responseElements returns CloudTrail's responseElements for an output.
func responseElements(out any) map[string]any {
	if r, ok := out.(auditResponder); ok {
		return r.AuditResponse()
	}
	return structElements(reflect.ValueOf(out), 0)
}

func structElements(v reflect.Value, depth int) map[string]any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == timeType {
		return nil
	}
	var m map[string]any
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if !f.IsExported() || fv.IsZero() {
			continue
		}
		var val any
		switch {
		case auditRespContainers[f.Name] && depth < 2:
			if sub := structElements(fv, depth+1); sub != nil {
				val = sub
			}
		case auditRespFields[f.Name] && plainValue(fv.Type()):
			val = fv.Interface()
		}
		if val != nil {
			if m == nil {
				m = make(map[string]any)
			}
			m[lowerCamel(f.Name)] = val
		}
	}
	return m
}

// plainValue reports whether t is a scalar, a timestamp or a list of
// scalars (never a struct, map or blob that could carry more than its name
// says).
func plainValue(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType || (t.Kind() == reflect.Struct || t.Kind() == reflect.Int64) && t.Implements(textMarshalerType) {
		return true // a timestamp
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// lowerCamel turns a Go/wire member name into CloudTrail's: "ARN" → "arn",
// "KeyId" → "keyId", "AWSAccountId" → "awsAccountId".
func lowerCamel(s string) string {
	n := 0
	for n < len(s) && 'A' <= s[n] && s[n] <= 'Z' {
		n++
	}
	switch {
	case n == 0:
		return s
	case n == len(s):
		return strings.ToLower(s)
	case n > 1:
		n-- // the last capital starts the next word
	}
	return strings.ToLower(s[:n]) + s[n:]
}

// clip truncates s to at most n bytes on a UTF-8 boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	}
	return ""
}

// Query-protocol parameters that are not request parameters: the
// operation, the version and the authentication of SigV2/SigV4 requests.
var queryAuthParams = toSet("Action", "Version", "AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp", "Expires", "SecurityToken")

// AuditParams renders a query request's parameters the way CloudTrail
// records them: lower-camel-case names, member lists as arrays
// ("Tags.member.1.Key" → tags[0].key), maps' entries likewise. Values stay
// strings. Passwords, web identity tokens and other secrets are dropped,
// and tokens HMAC'd, when the event is built (auditJSON).
func (q *qparams) AuditParams() map[string]any {
	keys := make([]string, 0, len(q.v))
	for k := range q.v {
		if !queryAuthParams[k] && !strings.HasPrefix(k, "X-Amz-") && len(q.v[k]) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	root := map[string]any{}
	for _, k := range keys {
		insertParam(root, strings.Split(k, "."), q.v[k][0])
	}
	if m, ok := listify(root).(map[string]any); ok {
		return m
	}
	return nil
}

// insertParam puts value at path in the tree; numeric segments become
// "#n" keys (lists, once listify has run), "member" and "entry" vanish.
func insertParam(node map[string]any, path []string, value string) {
	for i, seg := range path {
		if seg == "member" || seg == "entry" {
			continue
		}
		key := lowerCamel(seg)
		if n, err := strconv.Atoi(seg); err == nil && n > 0 {
			key = "#" + seg
		}
		if i == len(path)-1 {
			if _, exists := node[key]; !exists {
				node[key] = value
			}
			return
		}
		next, ok := node[key].(map[string]any)
		if !ok {
			if _, exists := node[key]; exists {
				return // a scalar already there: keep it
			}
			next = map[string]any{}
			node[key] = next
		}
		node = next
	}
}

// listify turns maps whose keys are all "#n" into lists ordered by n.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	all := len(m) > 0
	for k, sub := range m {
		m[k] = listify(sub)
		all = all && strings.HasPrefix(k, "#")
	}
	if !all {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, _ := strconv.Atoi(k[1:])
		idx = append(idx, n)
	}
	slices.Sort(idx)
	out := make([]any, len(idx))
	for i, n := range idx {
		out[i] = m["#"+strconv.Itoa(n)]
	}
	return out
}
