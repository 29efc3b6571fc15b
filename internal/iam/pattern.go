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
	raw  string
	mode patMode
	lit  string
	toks []token
	nvar int
}

// compilePattern compiles raw. wild enables `*` and `?`; vars enables
// `${...}` policy variables (and the escapes `${*}`, `${?}`, `${$}`).
func compilePattern(raw string, wild, vars bool) pattern {
	p := pattern{raw: raw}
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

// match matches s against a pattern without variables.
func (p *pattern) match(s string, fold bool) bool {
	switch p.mode {
	case pmAny:
		return true
	case pmExact:
		if fold {
			return strings.EqualFold(s, p.lit)
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

// matchVars matches s against a pattern, resolving variables through st.
// A variable without a value (and without a default) makes the pattern
// match nothing.
func (p *pattern) matchVars(st *evalState, s string, fold bool) bool {
	if p.mode != pmVar {
		return p.match(s, fold)
	}
	var vals [maxVars]string
	for i := range p.toks {
		t := &p.toks[i]
		if t.kind != tVar {
			continue
		}
		v, ok := st.resolveVar(t.s)
		if !ok {
			if !t.hasDef {
				return false
			}
			v = t.def
		}
		vals[t.vi] = v
	}
	return globMatch(p.toks, vals[:p.nvar], s, fold)
}

// globMatch matches s against toks. `*` matches any run of characters
// (including none, including '/' and ':'), `?` exactly one character.
func globMatch(toks []token, vals []string, s string, fold bool) bool {
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
					lit = vals[t.vi]
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
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
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
