package iam

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Patterns: compiled Action/Resource/condition values. A pattern is a list of
// tokens (literal text, `*`, `?`, policy variable). Patterns without
// variables get a fast mode (any, exact, prefix) so that the common shapes
// never run the general matcher. The general matcher is a linear glob with
// backtracking to the last star only, so no input can make it exponential.

type tokKind uint8

const (
	tLit tokKind = iota
	tStar
	tQuest
	tVar
)

type token struct {
	kind   tokKind
	s      string // literal text, or the lower-cased variable key
	def    string // default value of a variable
	hasDef bool
	vi     uint8 // variable ordinal (tVar)
}

type patMode uint8

const (
	pmExact  patMode = iota // lit == s
	pmAny                   // "*"
	pmPrefix                // lit followed by one trailing "*"
	pmGlob                  // general tokens, no variables
	pmVar                   // tokens with variables
)

// maxVars bounds the variables one pattern may hold; the resolved values
// live in a fixed array on the stack during matching.
const maxVars = 16

type pattern struct {
	raw   string
	mode  patMode
	lit   string
	toks  []token
	nvar  int
	ascii bool // raw is pure ASCII (enables length checks under folding)
}

// compilePattern compiles raw. wild enables `*` and `?`; vars enables
// `${...}` policy variables (and the escapes `${*}`, `${?}`, `${$}`).
func compilePattern(raw string, wild, vars bool) pattern {
	p := pattern{raw: raw, ascii: isASCII(raw)}
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tLit, s: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case vars && c == '$' && i+1 < len(raw) && raw[i+1] == '{':
			if t, n, ok := parseVar(raw[i:]); ok && (t.kind == tLit || p.nvar < maxVars) {
				if t.kind == tLit {
					lit.WriteString(t.s)
				} else {
					flush()
					t.vi = uint8(p.nvar)
					p.nvar++
					toks = append(toks, t)
				}
				i += n
				continue
			}
			lit.WriteByte(c)
			i++
		case wild && c == '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != tStar { // "**" == "*"
				toks = append(toks, token{kind: tStar})
			}
			i++
		case wild && c == '?':
			flush()
			toks = append(toks, token{kind: tQuest})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	switch {
	case p.nvar > 0:
		p.mode = pmVar
		p.toks = toks
	case len(toks) == 0:
		p.mode = pmExact
	case len(toks) == 1 && toks[0].kind == tLit:
		p.mode = pmExact
		p.lit = toks[0].s
	case len(toks) == 1 && toks[0].kind == tStar:
		p.mode = pmAny
	case len(toks) == 2 && toks[0].kind == tLit && toks[1].kind == tStar:
		p.mode = pmPrefix
		p.lit = toks[0].s
	default:
		p.mode = pmGlob
		p.toks = toks
	}
	return p
}

// parseVar parses "${...}" at the start of s. It returns a literal token for
// the escapes ${*}, ${?} and ${$}, or a variable token, and the bytes used.
func parseVar(s string) (token, int, bool) {
	// s starts with "${"
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return token{}, 0, false
	}
	body := s[2:end]
	switch body {
	case "*", "?", "$":
		return token{kind: tLit, s: body}, end + 1, true
	}
	key, rest, hasComma := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, "'${") {
		return token{}, 0, false
	}
	t := token{kind: tVar, s: strings.ToLower(key)}
	if hasComma {
		// ", 'default'" — the default may contain '}', so re-scan from the
		// opening quote to its closing quote, then expect '}'.
		off := 2 + len(body) - len(rest) // index of rest in s
		j := off
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) || s[j] != '\'' {
			return token{}, 0, false
		}
		q := strings.IndexByte(s[j+1:], '\'')
		if q < 0 {
			return token{}, 0, false
		}
		t.def, t.hasDef = s[j+1:j+1+q], true
		k := j + 1 + q + 1
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || s[k] != '}' {
			return token{}, 0, false
		}
		return t, k + 1, true
	}
	return t, end + 1, true
}

// hasWildcard reports whether the pattern can match more than one string
// (ignoring variables).
func (p *pattern) hasWildcard() bool {
	switch p.mode {
	case pmAny, pmPrefix, pmGlob:
		return true
	case pmVar:
		for _, t := range p.toks {
			if t.kind == tStar || t.kind == tQuest {
				return true
			}
		}
	}
	return false
}

// match matches s against a pattern without variables. sASCII says s is
// pure ASCII, which lets folded comparisons reject on length.
func (p *pattern) match(s string, fold, sASCII bool) bool {
	switch p.mode {
	case pmAny:
		return true
	case pmExact:
		if fold {
			return eqFold(s, p.lit, sASCII && p.ascii)
		}
		return s == p.lit
	case pmPrefix:
		if fold {
			_, ok := prefixFold(s, p.lit)
			return ok
		}
		return strings.HasPrefix(s, p.lit)
	case pmGlob:
		return globMatch(p.toks, nil, s, fold)
	}
	return false // pmVar needs matchVars
}

// matchVars matches s against a pattern, resolving variables through st
// when the matcher first reaches them. A variable without a value (and
// without a default) makes the pattern match nothing.
func (p *pattern) matchVars(st *evalState, s string, fold bool) bool {
	if p.mode != pmVar {
		return p.match(s, fold, false)
	}
	vs := varState{st: st}
	return globMatch(p.toks, &vs, s, fold)
}

// varState holds the variables of one match, resolved on first use.
type varState struct {
	st       *evalState
	vals     [maxVars]string
	resolved uint16
	missing  bool
}

func (vs *varState) get(t *token) (string, bool) {
	bit := uint16(1) << t.vi
	if vs.resolved&bit == 0 {
		v, ok := vs.st.resolveVar(t.s)
		if !ok {
			if !t.hasDef {
				return "", false
			}
			v = t.def
		}
		vs.vals[t.vi] = v
		vs.resolved |= bit
	}
	return vs.vals[t.vi], true
}

// actionPat is a compiled Action/NotAction entry: "*" or a fixed service
// prefix and a (possibly wildcarded) action name, matched case-insensitively.
type actionPat struct {
	any    bool
	vendor string
	vASCII bool
	name   pattern
}

func compileAction(a string) actionPat {
	if a == "*" {
		return actionPat{any: true}
	}
	v, n, _ := strings.Cut(a, ":")
	return actionPat{vendor: v, vASCII: isASCII(v), name: compilePattern(n, true, false)}
}

// reqAction is a request action split once per evaluation.
type reqAction struct {
	vendor, name string
	ascii        bool
	split        bool
}

func splitAction(a string) reqAction {
	v, n, ok := strings.Cut(a, ":")
	return reqAction{vendor: v, name: n, ascii: isASCII(a), split: ok}
}

func (ap *actionPat) match(r *reqAction) bool {
	if ap.any {
		return true
	}
	if !r.split || !eqFold(r.vendor, ap.vendor, r.ascii && ap.vASCII) {
		return false
	}
	return ap.name.match(r.name, true, r.ascii)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// eqFold is strings.EqualFold with an ASCII fast path; bothASCII lets it
// reject on length.
func eqFold(a, b string, bothASCII bool) bool {
	if bothASCII {
		return equalFoldASCII(a, b)
	}
	return strings.EqualFold(a, b)
}

// globMatch matches s against toks. `*` matches any run of characters
// (including none, including '/' and ':'), `?` exactly one character.
func globMatch(toks []token, vs *varState, s string, fold bool) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tStar:
				if ti == len(toks)-1 {
					return true
				}
				// Jump to the first place the next literal occurs.
				if next := &toks[ti+1]; !fold && next.kind == tLit {
					k := strings.Index(s[si:], next.s)
					if k < 0 {
						return false
					}
					si += k
				}
				starT, starS = ti, si
				ti++
				continue
			case tQuest:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				lit := t.s
				if t.kind == tVar {
					v, ok := vs.get(t)
					if !ok {
						return false
					}
					lit = v
				}
				if fold {
					if n, ok := prefixFold(s[si:], lit); ok {
						si += n
						ti++
						continue
					}
				} else if strings.HasPrefix(s[si:], lit) {
					si += len(lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		if next := &toks[starT+1]; !fold && next.kind == tLit {
			// The star takes more: move to the next occurrence of the
			// literal that follows it (literals start on a rune boundary).
			k := strings.Index(s[starS+1:], next.s)
			if k < 0 {
				return false
			}
			starS += 1 + k
		} else {
			_, n := utf8.DecodeRuneInString(s[starS:])
			starS += n
		}
		ti, si = starT+1, starS
	}
}

// prefixFold reports whether s starts with p under Unicode simple case
// folding, and how many bytes of s the prefix covers.
func prefixFold(s, p string) (int, bool) {
	i, j := 0, 0
	for j < len(p) {
		if i >= len(s) {
			return 0, false
		}
		a, b := s[i], p[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		r1, n1 := utf8.DecodeRuneInString(s[i:])
		r2, n2 := utf8.DecodeRuneInString(p[j:])
		if !foldEq(r1, r2) {
			return 0, false
		}
		i += n1
		j += n2
	}
	return i, true
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// equalFoldASCII compares two strings ignoring ASCII case only; used for
// condition-key names, which AWS treats case-insensitively.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}
