package iam

import (
	"errors"
	"strconv"
	"strings"
)

// Kind is the role a policy document plays; it decides which elements the
// document may and must have.
type Kind uint8

const (
	// KindIdentity is a policy attached to a user, group or role. No
	// Principal; Resource required.
	KindIdentity Kind = iota + 1
	// KindResource is a resource-based policy such as a secret's resource
	// policy. Principal and Resource required.
	KindResource
	// KindKeyPolicy is a KMS key policy. Principal and Resource required;
	// it must itself allow a caller (see Evaluate).
	KindKeyPolicy
	// KindTrust is a role's trust (assume-role) policy. Principal required,
	// NotPrincipal and Resource/NotResource prohibited.
	KindTrust
	// KindBoundary is a permissions boundary (identity rules).
	KindBoundary
	// KindSession is a session policy passed to AssumeRole* (identity rules).
	KindSession
)

func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "identity"
	case KindResource:
		return "resource"
	case KindKeyPolicy:
		return "key-policy"
	case KindTrust:
		return "trust"
	case KindBoundary:
		return "boundary"
	case KindSession:
		return "session"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) identityRules() bool {
	return k == KindIdentity || k == KindBoundary || k == KindSession
}

// Effect is a statement's Effect.
type Effect uint8

const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return ""
}

// Versions of the policy language.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// ErrMalformedPolicy is the sentinel every parse error wraps; the edge maps
// it to MalformedPolicyDocument(Exception).
var ErrMalformedPolicy = errors.New("malformed policy document")

// PolicyError is a rejected policy document. Message is the text AWS
// returns (e.g. "Syntax errors in policy."); Detail says what was wrong in
// our words and is meant for logs.
type PolicyError struct {
	Message string
	Detail  string
}

func (e *PolicyError) Error() string {
	return "iam: malformed policy document: " + e.Detail
}

func (e *PolicyError) Unwrap() error { return ErrMalformedPolicy }

// AWS's MalformedPolicyDocument texts.
const (
	msgSyntax          = "Syntax errors in policy."
	msgLegacy          = "The policy failed legacy parsing"
	msgNoPrincipal     = "Policy document should not specify a principal."
	msgMissingPrinc    = "Missing required field Principal"
	msgDupSid          = "Statement IDs (SID) in a single policy must be unique."
	msgSidChars        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgNoActions       = "Policy statement must contain actions."
	msgNoResources     = "Policy statement must contain resources."
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon        = "Actions/Condition can contain only one colon."
	msgResourceVendor  = "Resource vendor must be fully qualified and cannot contain regexes."
	msgProhibitedField = "Has prohibited field "
)

func syntaxError(detail string) *PolicyError {
	return &PolicyError{Message: msgSyntax, Detail: detail}
}

func legacyError(detail string) *PolicyError {
	return &PolicyError{Message: msgLegacy, Detail: detail}
}

func stmtErr(i int, e *PolicyError) *PolicyError {
	e.Detail = "statement " + strconv.Itoa(i) + ": " + e.Detail
	return e
}

// Policy is a parsed and compiled policy document. It is immutable and
// safe for concurrent use.
type Policy struct {
	kind    Kind
	version string
	id      string
	stmts   []statement
	denies  []int32 // indexes of Deny statements
	allows  []int32 // indexes of Allow statements
}

// Kind returns the kind the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Version returns the Version element ("" when absent).
func (p *Policy) Version() string { return p.version }

// ID returns the Id element.
func (p *Policy) ID() string { return p.id }

// Len returns the number of statements.
func (p *Policy) Len() int { return len(p.stmts) }

// Sid returns the Sid of statement i.
func (p *Policy) Sid(i int) string { return p.stmts[i].sid }

// Principals lists every principal named in Principal and NotPrincipal
// elements, in document order, so a caller can check they exist.
func (p *Policy) Principals() []PrincipalRef {
	var out []PrincipalRef
	for i := range p.stmts {
		if ps := p.stmts[i].principal; ps != nil {
			out = append(out, ps.refs...)
		}
	}
	return out
}

type statement struct {
	sid          string
	effect       Effect
	notAction    bool
	actions      []actionPat
	notResource  bool
	resources    []pattern // nil: no Resource element (trust policies) = every resource
	principal    *principalSpec
	notPrincipal bool
	conds        []clause
}

var topFields = map[string]bool{"Version": true, "Id": true, "Statement": true}

var stmtFields = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Condition": true,
}

// Parse parses and compiles a policy document of the given kind. Errors
// are *PolicyError (wrapping ErrMalformedPolicy). Parse does not enforce a
// size limit; callers apply the limit of their API first.
//
// Checks run in the order AWS applies them, so that a document with several
// problems gets the message AWS would give: JSON and element syntax;
// legacy-parser checks (Effect case, resource shape, condition values);
// Principal rules for the kind; Sid uniqueness; presence of actions and
// resources; resource formats; action formats.
func Parse(doc string, kind Kind) (*Policy, error) {
	p, err := parse(doc, kind)
	if err != nil {
		return nil, err
	}
	return p, nil
}

type rawStmt struct {
	obj *jvalue
	st  statement
}

func parse(doc string, kind Kind) (*Policy, *PolicyError) {
	if kind < KindIdentity || kind > KindSession {
		return nil, syntaxError("unknown policy kind")
	}
	root, err := parseJSON(doc)
	if err != nil {
		return nil, syntaxError("invalid json: " + err.Error())
	}
	if root.kind != jObject {
		return nil, syntaxError("document is not a json object")
	}
	for _, m := range root.obj {
		if !topFields[m.key] {
			return nil, syntaxError("unknown field " + strconv.Quote(m.key))
		}
	}
	p := &Policy{kind: kind}
	if v, ok := root.get("Version"); ok {
		if v.kind != jString || (v.str != Version2012 && v.str != Version2008) {
			return nil, syntaxError("invalid Version")
		}
		p.version = v.str
	}
	if v, ok := root.get("Id"); ok {
		if v.kind != jString {
			return nil, syntaxError("Id must be a string")
		}
		p.id = v.str
	}
	sv, ok := root.get("Statement")
	if !ok {
		return nil, syntaxError("missing Statement")
	}
	var objs []*jvalue
	switch sv.kind {
	case jObject:
		objs = []*jvalue{sv}
	case jArray:
		for i := range sv.arr {
			objs = append(objs, &sv.arr[i])
		}
	default:
		return nil, syntaxError("Statement must be an object or a list")
	}
	if len(objs) == 0 {
		return nil, syntaxError("Statement is empty")
	}
	vars := p.version == Version2012

	// Pass 1: element syntax.
	raws := make([]rawStmt, len(objs))
	for i, o := range objs {
		if e := syntaxPass(o, &raws[i]); e != nil {
			return nil, stmtErr(i, e)
		}
	}
	// Pass 2: legacy-parser checks.
	for i := range raws {
		if e := legacyPass(&raws[i], vars); e != nil {
			return nil, stmtErr(i, e)
		}
	}
	// Pass 3: Principal rules of the kind.
	for i := range raws {
		if e := principalPass(&raws[i], kind); e != nil {
			return nil, stmtErr(i, e)
		}
	}
	// Pass 4: Sids.
	seen := map[string]bool{}
	for i := range raws {
		sid := raws[i].st.sid
		if sid == "" {
			continue
		}
		if (kind == KindIdentity || kind == KindBoundary) && !alnum(sid) {
			return nil, stmtErr(i, &PolicyError{Message: msgSidChars, Detail: "sid " + strconv.Quote(sid) + " is not alphanumeric"})
		}
		if seen[sid] {
			return nil, stmtErr(i, &PolicyError{Message: msgDupSid, Detail: "duplicate sid " + strconv.Quote(sid)})
		}
		seen[sid] = true
	}
	// Pass 5: actions and resources present.
	for i := range raws {
		o := raws[i].obj
		a, na := present(o, "Action"), present(o, "NotAction")
		if !a && !na {
			return nil, stmtErr(i, &PolicyError{Message: msgNoActions, Detail: "no Action or NotAction"})
		}
	}
	for i := range raws {
		o := raws[i].obj
		r, nr := present(o, "Resource"), present(o, "NotResource")
		if kind == KindTrust {
			for _, f := range []string{"Resource", "NotResource"} {
				if _, ok := o.get(f); ok {
					return nil, stmtErr(i, &PolicyError{Message: msgProhibitedField + f, Detail: f + " is not allowed in a trust policy"})
				}
			}
			continue
		}
		if !r && !nr {
			return nil, stmtErr(i, &PolicyError{Message: msgNoResources, Detail: "no Resource or NotResource"})
		}
	}
	// Pass 6: resource formats.
	for i := range raws {
		if e := resourcePass(&raws[i], vars); e != nil {
			return nil, stmtErr(i, e)
		}
	}
	// Pass 7: action formats.
	for i := range raws {
		if e := actionPass(&raws[i]); e != nil {
			return nil, stmtErr(i, e)
		}
	}
	p.stmts = make([]statement, len(raws))
	for i := range raws {
		p.stmts[i] = raws[i].st
		if p.stmts[i].effect == Deny {
			p.denies = append(p.denies, int32(i))
		} else {
			p.allows = append(p.allows, int32(i))
		}
	}
	return p, nil
}

// present reports whether the element exists and is non-empty.
func present(o *jvalue, f string) bool {
	v, ok := o.get(f)
	if !ok {
		return false
	}
	if v.kind == jArray {
		return len(v.arr) > 0
	}
	return true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// stringList reads a string or a list of strings.
func stringList(v *jvalue) ([]string, bool) {
	switch v.kind {
	case jString:
		return []string{v.str}, true
	case jArray:
		out := make([]string, 0, len(v.arr))
		for i := range v.arr {
			if v.arr[i].kind != jString {
				return nil, false
			}
			out = append(out, v.arr[i].str)
		}
		return out, true
	}
	return nil, false
}

// scalarList reads a condition value: a string, number or boolean, or a
// list of them.
func scalarList(v *jvalue) ([]string, bool) {
	scalar := func(x *jvalue) bool { return x.kind == jString || x.kind == jNumber || x.kind == jBool }
	if scalar(v) {
		return []string{v.str}, true
	}
	if v.kind != jArray {
		return nil, false
	}
	out := make([]string, 0, len(v.arr))
	for i := range v.arr {
		if !scalar(&v.arr[i]) {
			return nil, false
		}
		out = append(out, v.arr[i].str)
	}
	return out, true
}

func syntaxPass(o *jvalue, r *rawStmt) *PolicyError {
	if o.kind != jObject {
		return syntaxError("statement is not an object")
	}
	r.obj = o
	for _, m := range o.obj {
		if !stmtFields[m.key] {
			return syntaxError("unknown field " + strconv.Quote(m.key))
		}
	}
	for _, pair := range [][2]string{{"Action", "NotAction"}, {"Resource", "NotResource"}, {"Principal", "NotPrincipal"}} {
		_, a := o.get(pair[0])
		_, b := o.get(pair[1])
		if a && b {
			return syntaxError("both " + pair[0] + " and " + pair[1])
		}
	}
	if v, ok := o.get("Sid"); ok {
		if v.kind != jString {
			return syntaxError("Sid must be a string")
		}
		r.st.sid = v.str
	}
	ev, ok := o.get("Effect")
	if !ok {
		return syntaxError("missing Effect")
	}
	if ev.kind != jString {
		return syntaxError("Effect must be a string")
	}
	switch ev.str {
	case "Allow":
		r.st.effect = Allow
	case "Deny":
		r.st.effect = Deny
	default:
		if !strings.EqualFold(ev.str, "Allow") && !strings.EqualFold(ev.str, "Deny") {
			return syntaxError("invalid Effect " + strconv.Quote(ev.str))
		}
		// wrong case: reported by the legacy pass
	}
	for _, f := range []string{"Action", "NotAction", "Resource", "NotResource"} {
		if v, ok := o.get(f); ok {
			if _, ok := stringList(v); !ok {
				return syntaxError(f + " must be a string or a list of strings")
			}
		}
	}
	if v, ok := o.get("Condition"); ok {
		if v.kind != jObject {
			return syntaxError("Condition must be an object")
		}
		for _, opm := range v.obj {
			if opm.val.kind != jObject {
				return syntaxError("condition operator " + strconv.Quote(opm.key) + " must map to an object")
			}
			for _, km := range opm.val.obj {
				if _, ok := scalarList(&km.val); !ok {
					return syntaxError("condition values for " + strconv.Quote(km.key) + " must be strings, numbers or booleans")
				}
			}
			if _, _, _, ok := parseOperator(opm.key); !ok && len(opm.val.obj) > 0 {
				return syntaxError("invalid condition operator " + strconv.Quote(opm.key))
			}
		}
	}
	for _, f := range []string{"Principal", "NotPrincipal"} {
		if v, ok := o.get(f); ok {
			ps, err := compilePrincipal(v)
			if err != nil {
				return err
			}
			r.st.principal = ps
			r.st.notPrincipal = f == "NotPrincipal"
		}
	}
	return nil
}

func legacyPass(r *rawStmt, vars bool) *PolicyError {
	if r.st.effect == 0 {
		ev, _ := r.obj.get("Effect")
		return legacyError("Effect " + strconv.Quote(ev.str) + " has the wrong case")
	}
	for _, f := range []string{"Resource", "NotResource"} {
		v, ok := r.obj.get(f)
		if !ok {
			continue
		}
		list, _ := stringList(v)
		for _, res := range list {
			// Only well-formed-looking ARNs (arn:<valid partition>:...) reach
			// the legacy parser; others get the format messages later.
			if res == "*" || !strings.HasPrefix(res, "arn:") || !validPartitions[strings.Split(res, ":")[1]] {
				continue
			}
			// Five parts, or an empty service with four or more, is what
			// AWS's legacy parser refuses; "arn:aws:svc" and
			// "arn:aws:svc:*" pass on to the format checks.
			parts, ok := splitArn(res, vars)
			n := strings.Count(res, ":") + 1
			emptySvc := n >= 4 && strings.Split(res, ":")[2] == ""
			if ok && parts[2] == "" || !ok && (n == 5 || emptySvc) {
				return legacyError("resource " + strconv.Quote(res) + " is not a complete ARN")
			}
		}
	}
	if v, ok := r.obj.get("Condition"); ok {
		conds, err := compileConditions(v, vars)
		if err != nil {
			return err
		}
		r.st.conds = conds
	}
	return nil
}

func principalPass(r *rawStmt, kind Kind) *PolicyError {
	_, hasP := r.obj.get("Principal")
	_, hasNP := r.obj.get("NotPrincipal")
	switch {
	case kind.identityRules():
		if hasP || hasNP {
			return &PolicyError{Message: msgNoPrincipal, Detail: "principal in a " + kind.String() + " policy"}
		}
	case kind == KindTrust && hasNP:
		return &PolicyError{Message: msgProhibitedField + "NotPrincipal", Detail: "NotPrincipal in a trust policy"}
	default:
		if !hasP && !hasNP {
			return &PolicyError{Message: msgMissingPrinc, Detail: "no Principal in a " + kind.String() + " policy"}
		}
	}
	return nil
}

// validPartitions are the partitions a Resource may name.
var validPartitions = map[string]bool{
	"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true,
	"aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true, "*": true,
}

func resourcePass(r *rawStmt, vars bool) *PolicyError {
	for _, f := range []string{"Resource", "NotResource"} {
		v, ok := r.obj.get(f)
		if !ok {
			continue
		}
		list, _ := stringList(v)
		pats := make([]pattern, 0, len(list))
		for _, res := range list {
			if e := checkResource(res); e != nil {
				return e
			}
			pats = append(pats, compilePattern(res, true, vars))
		}
		r.st.resources = pats
		r.st.notResource = f == "NotResource"
	}
	return nil
}

func checkResource(res string) *PolicyError {
	if res == "*" {
		return nil
	}
	colon := strings.IndexByte(res, ':')
	if colon < 0 {
		return &PolicyError{Message: "Resource " + res + " must be in ARN format or \"*\".", Detail: "resource " + strconv.Quote(res) + " is not an ARN"}
	}
	rest := res[colon+1:]
	// AWS reads the part after the first colon as the partition, whatever
	// the first part is.
	parts := strings.Split(rest, ":")
	partition := parts[0]
	if !validPartitions[partition] {
		fill := func(i int) string {
			if i < len(parts) {
				return parts[i]
			}
			return "*"
		}
		tail := "*"
		if len(parts) > 4 {
			tail = strings.Join(parts[4:], ":")
		}
		shown := "arn:" + partition + ":" + fill(1) + ":" + fill(2) + ":" + fill(3) + ":" + tail
		return &PolicyError{
			Message: "Partition \"" + partition + "\" is not valid for resource \"" + shown + "\".",
			Detail:  "invalid partition in " + strconv.Quote(res),
		}
	}
	if len(parts) < 2 || parts[1] == "" || strings.ContainsAny(parts[1], "*?") {
		return &PolicyError{Message: msgResourceVendor, Detail: "resource " + strconv.Quote(res) + " has no fixed service"}
	}
	if len(parts) >= 3 && parts[2] != "" {
		switch parts[1] {
		case "iam":
			return &PolicyError{Message: "IAM resource " + res + " cannot contain region information.", Detail: "iam resource with a region"}
		case "s3":
			return &PolicyError{Message: "Resource " + res + " can not contain region information.", Detail: "s3 resource with a region"}
		}
	}
	return nil
}

func actionPass(r *rawStmt) *PolicyError {
	for _, f := range []string{"Action", "NotAction"} {
		v, ok := r.obj.get(f)
		if !ok {
			continue
		}
		list, _ := stringList(v)
		pats := make([]actionPat, 0, len(list))
		for _, a := range list {
			if e := checkAction(a); e != nil {
				return e
			}
			pats = append(pats, compileAction(a))
		}
		r.st.actions = pats
		r.st.notAction = f == "NotAction"
	}
	return nil
}

func checkAction(a string) *PolicyError {
	if a == "*" {
		return nil
	}
	vendor, _, found := strings.Cut(a, ":")
	if !found {
		return &PolicyError{Message: msgVendor, Detail: "action " + strconv.Quote(a) + " has no service prefix"}
	}
	if strings.Count(a, ":") > 1 {
		return &PolicyError{Message: msgOneColon, Detail: "action " + strconv.Quote(a) + " has more than one colon"}
	}
	for i := 0; i < len(vendor); i++ {
		c := vendor[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return &PolicyError{Message: "Vendor " + vendor + " is not valid", Detail: "invalid service prefix in " + strconv.Quote(a)}
		}
	}
	if vendor == "" {
		return &PolicyError{Message: msgVendor, Detail: "action " + strconv.Quote(a) + " has an empty service prefix"}
	}
	return nil
}

// ValidAction reports whether a is an acceptable Action value: "*" or
// "service:action" where action may hold `*` and `?`.
func ValidAction(a string) bool { return checkAction(a) == nil }
