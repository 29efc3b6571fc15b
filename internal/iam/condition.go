package iam

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Context supplies the request's condition keys (aws:SourceIp,
// secretsmanager:VersionStage, aws:ResourceTag/Team, ...).
//
// Lookup receives the key in lower case (policies are compiled with
// lower-cased keys) and must match it case-insensitively against its own
// keys. A key that is present with no values counts as missing.
//
// Keys derived from the Principal (aws:PrincipalArn, aws:PrincipalAccount,
// aws:PrincipalType, aws:userid, aws:username, aws:PrincipalTag/*,
// aws:PrincipalIsAWSService, aws:PrincipalServiceName, aws:SourceIdentity,
// aws:FederatedProvider) and aws:CurrentTime / aws:EpochTime (from
// Request.Time) need not be supplied: the evaluator derives them when
// Lookup reports them missing.
type Context interface {
	Lookup(key string) ([]string, bool)
}

// Values is a small Context built by the caller for one request. The zero
// value is ready to use; Reset lets a pooled Values be reused without
// allocating.
type Values struct {
	entries []valueEntry
}

type valueEntry struct {
	key   string
	ascii bool
	one   [1]string
	many  []string
}

// Set sets key to a single value, replacing earlier values.
func (v *Values) Set(key, value string) {
	e := v.entry(key)
	e.one[0] = value
	e.many = nil
}

// SetList sets key to a list of values (a multivalued key such as
// aws:TagKeys). The slice is retained, not copied.
func (v *Values) SetList(key string, values []string) {
	e := v.entry(key)
	e.one[0] = ""
	e.many = values
	if e.many == nil {
		e.many = []string{}
	}
}

// Reset removes every key but keeps the storage.
func (v *Values) Reset() {
	clear(v.entries)
	v.entries = v.entries[:0]
}

func (v *Values) entry(key string) *valueEntry {
	for i := range v.entries {
		if keyEq(v.entries[i].key, key) {
			return &v.entries[i]
		}
	}
	v.entries = append(v.entries, valueEntry{key: key, ascii: isASCII(key)})
	return &v.entries[len(v.entries)-1]
}

// Lookup implements Context.
func (v *Values) Lookup(key string) ([]string, bool) {
	ascii := isASCII(key)
	for i := range v.entries {
		e := &v.entries[i]
		if ascii && e.ascii && len(e.key) != len(key) {
			continue
		}
		if keyEq(e.key, key) {
			if e.many != nil {
				return e.many, true
			}
			return e.one[:], true
		}
	}
	return nil, false
}

// keyEq compares condition-key names case-insensitively: ASCII fast path,
// Unicode folding from the first non-ASCII byte on.
func keyEq(a, b string) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.EqualFold(a[i:], b[i:])
		}
		if x != y && lowerASCII(x) != lowerASCII(y) {
			return false
		}
	}
	return len(a) == len(b)
}

// ---- operators ----

type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famArn
	famNull
)

type cmpKind uint8

const (
	cmpEq cmpKind = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type setOp uint8

const (
	setNone setOp = iota
	setAny
	setAll
)

type opInfo struct {
	fam  family
	cmp  cmpKind
	neg  bool
	fold bool // ...IgnoreCase
	like bool // wildcards are active
}

var baseOps = map[string]opInfo{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, neg: true},
	"StringEqualsIgnoreCase":    {fam: famString, fold: true},
	"StringNotEqualsIgnoreCase": {fam: famString, fold: true, neg: true},
	"StringLike":                {fam: famString, like: true},
	"StringNotLike":             {fam: famString, like: true, neg: true},
	"NumericEquals":             {fam: famNumeric},
	"NumericNotEquals":          {fam: famNumeric, neg: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGe},
	"DateEquals":                {fam: famDate},
	"DateNotEquals":             {fam: famDate, neg: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLe},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGe},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, neg: true},
	"ArnEquals":                 {fam: famArn, like: true},
	"ArnLike":                   {fam: famArn, like: true},
	"ArnNotEquals":              {fam: famArn, like: true, neg: true},
	"ArnNotLike":                {fam: famArn, like: true, neg: true},
	"Null":                      {fam: famNull},
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
// Operator names are case-sensitive.
func parseOperator(name string) (info opInfo, set setOp, ifExists bool, ok bool) {
	base := name
	if rest, found := strings.CutPrefix(base, "ForAnyValue:"); found {
		set, base = setAny, rest
	} else if rest, found := strings.CutPrefix(base, "ForAllValues:"); found {
		set, base = setAll, rest
	}
	info, ok = baseOps[base]
	if !ok {
		if b, found := strings.CutSuffix(base, "IfExists"); found {
			info, ok = baseOps[b]
			ifExists = true
			if info.fam == famNull {
				ok = false
			}
		}
	}
	return info, set, ifExists, ok
}

// ValidConditionOperator reports whether name is a condition operator AWS
// accepts (with optional ForAnyValue:/ForAllValues: and IfExists).
func ValidConditionOperator(name string) bool {
	_, _, _, ok := parseOperator(name)
	return ok
}

// arnPattern is an ArnLike/ArnEquals value: six colon-separated parts
// compared one by one. A value with fewer than six parts is matched as a
// whole (so "*" matches any ARN).
type arnPattern struct {
	whole *pattern
	parts [6]pattern
}

type clause struct {
	op       string // as written
	key      string // lower-cased
	info     opInfo
	set      setOp
	ifExists bool
	pats     []pattern    // string
	arns     []arnPattern // arn
	nums     []float64
	dates    []time.Time
	nets     []netip.Prefix
	strs     []string // bool (lower-cased), binary, null
	raw      []string // values as written
}

func compileConditions(v *jvalue, vars bool) ([]clause, *PolicyError) {
	if v.kind != jObject {
		return nil, syntaxError("Condition must be an object")
	}
	var out []clause
	for _, opm := range v.obj {
		if opm.val.kind != jObject {
			return nil, syntaxError("condition operator " + strconv.Quote(opm.key) + " must map to an object")
		}
		info, set, ifExists, ok := parseOperator(opm.key)
		if !ok {
			if len(opm.val.obj) == 0 {
				continue // AWS accepts an unknown operator with no keys
			}
			return nil, syntaxError("invalid condition operator " + strconv.Quote(opm.key))
		}
		for _, km := range opm.val.obj {
			raw, ok := scalarList(&km.val)
			if !ok {
				return nil, syntaxError("condition values for " + strconv.Quote(km.key) + " must be strings, numbers or booleans")
			}
			c := clause{op: opm.key, key: strings.ToLower(km.key), info: info, set: set, ifExists: ifExists, raw: raw}
			if err := c.compileValues(raw, vars); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func (c *clause) compileValues(raw []string, vars bool) *PolicyError {
	bad := func(v string) *PolicyError {
		return legacyError("invalid " + c.op + " value " + strconv.Quote(v))
	}
	for _, v := range raw {
		switch c.info.fam {
		case famString:
			c.pats = append(c.pats, compilePattern(v, c.info.like, vars))
		case famArn:
			c.arns = append(c.arns, compileArn(v, vars))
		case famNumeric:
			f, ok := parseNumber(v)
			if !ok {
				return bad(v)
			}
			c.nums = append(c.nums, f)
		case famDate:
			t, ok := parseDate(v)
			if !ok {
				return bad(v)
			}
			c.dates = append(c.dates, t)
		case famIP:
			p, ok := parseCIDR(v)
			if !ok {
				return bad(v)
			}
			c.nets = append(c.nets, p)
		case famBool, famNull:
			c.strs = append(c.strs, strings.ToLower(v))
		case famBinary:
			c.strs = append(c.strs, v)
		}
	}
	return nil
}

// splitArn splits s into its six ARN parts, ignoring colons inside "${…}"
// when vars is set. ok is false when s has fewer than six parts.
func splitArn(s string, vars bool) (parts [6]string, ok bool) {
	n, start, depth := 0, 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		switch {
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case depth > 0 && s[i] == '}':
			depth--
		case depth == 0 && s[i] == ':':
			parts[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	if n < 5 {
		return parts, false
	}
	parts[5] = s[start:]
	return parts, true
}

func compileArn(v string, vars bool) arnPattern {
	parts, ok := splitArn(v, vars)
	if !ok {
		w := compilePattern(v, true, vars)
		return arnPattern{whole: &w}
	}
	var a arnPattern
	for i, p := range parts {
		a.parts[i] = compilePattern(p, true, vars)
	}
	return a
}

func (a *arnPattern) match(st *evalState, s string) bool {
	if a.whole != nil {
		return a.whole.matchVars(st, s, false)
	}
	parts, ok := splitArn(s, false)
	if !ok {
		return false
	}
	for i := range a.parts {
		if !a.parts[i].matchVars(st, parts[i], false) {
			return false
		}
	}
	return true
}

func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func parseCIDR(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return p.Masked(), true
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseDate parses an epoch (seconds, optionally negative) or an ISO 8601
// date-time: YYYY-MM-DD[(T|t| )H[H][:MM[:SS[.fraction]]]][Z|±HH|±HHMM|±HH:MM].
// A value without a zone is UTC. It does not allocate.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if isEpoch(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	i := 0
	num := func(min, max int) (int, bool) {
		v, d := 0, 0
		for i < len(s) && d < max && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
			d++
		}
		return v, d >= min
	}
	lit := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	year, ok := num(4, 4)
	if !ok || !lit('-') {
		return time.Time{}, false
	}
	month, ok := num(2, 2)
	if !ok || !lit('-') || month < 1 || month > 12 {
		return time.Time{}, false
	}
	day, ok := num(2, 2)
	if !ok || day < 1 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	var hour, minute, sec, nsec int
	loc := 0 // offset seconds
	if i < len(s) && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
		i++
		if hour, ok = num(1, 2); !ok || hour > 23 {
			return time.Time{}, false
		}
		if lit(':') {
			if minute, ok = num(2, 2); !ok || minute > 59 {
				return time.Time{}, false
			}
			if lit(':') {
				if sec, ok = num(2, 2); !ok || sec > 59 {
					return time.Time{}, false
				}
				if lit('.') {
					start := i
					frac, ok := num(1, 9)
					if !ok || (i < len(s) && s[i] >= '0' && s[i] <= '9') {
						return time.Time{}, false
					}
					for k := i - start; k < 9; k++ {
						frac *= 10
					}
					nsec = frac
				}
			}
		}
		switch {
		case lit('Z') || lit('z'):
		case i < len(s) && (s[i] == '+' || s[i] == '-'):
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			oh, ok := num(2, 2)
			if !ok || oh > 23 {
				return time.Time{}, false
			}
			om := 0
			if lit(':') {
				if om, ok = num(2, 2); !ok {
					return time.Time{}, false
				}
			} else if i < len(s) {
				if om, ok = num(2, 2); !ok {
					return time.Time{}, false
				}
			}
			if om > 59 {
				return time.Time{}, false
			}
			loc = sign * (oh*3600 + om*60)
		}
	} else if !lit('Z') {
		lit('z') // a date may carry a zone designator alone
	}
	if i != len(s) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(loc) * time.Second), true
}

func isEpoch(s string) bool {
	i := 0
	if s[0] == '-' {
		i = 1
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ---- evaluation ----

// holds evaluates one clause.
func (st *evalState) holds(c *clause) bool {
	vals, ok := st.lookup(c.key)
	missing := !ok || len(vals) == 0
	if c.info.fam == famNull {
		for _, s := range c.strs {
			if (s == "true" && missing) || (s == "false" && !missing) {
				return true
			}
		}
		return false
	}
	if missing {
		switch {
		case c.ifExists:
			return true
		case c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.info.neg
	}
	neg := c.info.neg
	switch c.set {
	case setAny:
		for _, v := range vals {
			if st.valueMatches(c, v) != neg {
				return true
			}
		}
		return false
	case setAll:
		for _, v := range vals {
			if st.valueMatches(c, v) == neg {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if st.valueMatches(c, v) {
			return !neg
		}
	}
	return neg
}

// valueMatches reports whether one request value matches any policy value
// of the clause, in the positive sense of the operator.
func (st *evalState) valueMatches(c *clause, v string) bool {
	switch c.info.fam {
	case famString:
		for i := range c.pats {
			if c.pats[i].matchVars(st, v, c.info.fold) {
				return true
			}
		}
	case famArn:
		for i := range c.arns {
			if c.arns[i].match(st, v) {
				return true
			}
		}
	case famNumeric:
		f, ok := parseNumber(v)
		if !ok {
			return false
		}
		for _, p := range c.nums {
			if compare(c.info.cmp, cmpFloat(f, p)) {
				return true
			}
		}
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, p := range c.dates {
			if compare(c.info.cmp, t.Compare(p)) {
				return true
			}
		}
	case famBool:
		for _, p := range c.strs {
			if strings.EqualFold(v, p) {
				return true
			}
		}
	case famBinary:
		for _, p := range c.strs {
			if v == p {
				return true
			}
		}
	case famIP:
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		a = a.WithZone("").Unmap()
		for _, p := range c.nets {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(k cmpKind, c int) bool {
	switch k {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	}
	return false
}
