package main

import (
	"fmt"
	"regexp"
	"strings"
)

// translatePattern turns a botocore (Java java.util.regex) pattern into a Go
// RE2 expression that matches the whole value, as AWS's framework applies
// patterns (Pattern.matches semantics: "[\w+=,.@-]+" rejects "my role").
//
// Translations: \uXXXX -> \x{XXXX}; \s -> whitespace including \x0B (Java's
// \s has vertical tab, RE2's has not). Constructs RE2 cannot express
// (look-around, possessive or atomic groups, back references, class
// intersection, Java-only classes) make the pattern unenforceable: the
// returned error says why, and the generator records the shape as skipped.
func translatePattern(p string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n == 'u' && i+5 < len(p) && isHex(p[i+2:i+6]):
				b.WriteString(`\x{` + p[i+2:i+6] + `}`)
				i += 5
				continue
			case n == 's':
				if inClass {
					b.WriteString(`\s\x0B`)
				} else {
					b.WriteString(`[\s\x0B]`)
				}
			case n >= '1' && n <= '9':
				return "", fmt.Errorf("back reference \\%c", n)
			case n == 'Q':
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					return "", fmt.Errorf("unterminated \\Q")
				}
				b.WriteString(regexp.QuoteMeta(p[i+2 : i+2+end]))
				i += 2 + end + 1
				continue
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
			continue
		case c == '[' && !inClass:
			inClass = true
		case c == '[' && inClass:
			return "", fmt.Errorf("nested character class (Java union)")
		case c == ']' && inClass:
			inClass = false
		case c == '&' && inClass && i+1 < len(p) && p[i+1] == '&':
			return "", fmt.Errorf("character class intersection (&&)")
		case c == '(' && !inClass && strings.HasPrefix(p[i:], "(?"):
			rest := p[i+2:]
			for _, bad := range []string{"=", "!", "<=", "<!", ">"} {
				if strings.HasPrefix(rest, bad) {
					return "", fmt.Errorf("look-around or atomic group (?%s", bad)
				}
			}
		case (c == '+') && !inClass && i > 0 && strings.ContainsRune("*+?}", rune(p[i-1])) && !escaped(p, i-1):
			return "", fmt.Errorf("possessive quantifier")
		}
		b.WriteByte(c)
	}
	expr := `^(?:` + b.String() + `)$`
	if _, err := regexp.Compile(expr); err != nil {
		return "", fmt.Errorf("not valid RE2: %w", err)
	}
	return expr, nil
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// escaped reports whether p[i] is preceded by an odd number of backslashes.
func escaped(p string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && p[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
