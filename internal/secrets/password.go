package secrets

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// PasswordSpec is the input of GetRandomPassword.
type PasswordSpec struct {
	// Length of the password, 1–4096; 0 means the default, 32.
	Length int64
	// ExcludeCharacters are never used, in any character type.
	ExcludeCharacters string
	// The Exclude flags drop a whole character type.
	ExcludeNumbers     bool
	ExcludePunctuation bool
	ExcludeUppercase   bool
	ExcludeLowercase   bool
	// IncludeSpace adds ' ' to the characters drawn from.
	IncludeSpace bool
	// RequireEachIncludedType: at least one character of each included type
	// (upper case, lower case, digits, punctuation). nil means true, AWS's
	// default.
	RequireEachIncludedType *bool
}

// Password limits (botocore PasswordLengthType, GetRandomPassword doc).
const (
	pwDefaultLength = 32
	pwMaxLength     = 4096
)

// Character types. Punctuation is exactly the 32 characters the API
// reference lists for ExcludePunctuation.
const (
	pwUpper       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	pwLower       = "abcdefghijklmnopqrstuvwxyz"
	pwDigits      = "0123456789"
	pwPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// Messages. msgPwTooShort is moto's text (spec §3.14); a third-party
// CloudFormation provider reports the same wording, and msgPwAllExcluded's,
// as measured on CloudFormation's GenerateSecretString (which is backed by
// this operation). Neither is recorded against the Secrets Manager API. The
// length-range text is Coffer's (the edge rejects such lengths first).
const (
	msgPwTooShort    = "Password length is too short based on the required types."
	msgPwAllExcluded = "All characters have been excluded from selection."
)

// RandomPassword generates a password for GetRandomPassword.
//
// Every character is drawn uniformly (crypto/rand, rejection sampling, no
// modulo bias) from the union of the included types after removing
// ExcludeCharacters. When RequireEachIncludedType is in effect (the
// default), one character of each included type among upper case, lower case,
// digits and punctuation is drawn from that type, the rest from the union,
// and the result is shuffled (Fisher–Yates, crypto/rand) so the required
// characters sit at uniformly random positions. A space (IncludeSpace) is
// allowed but never required: RequireEachIncludedType names only the four
// types. A type whose characters are all in ExcludeCharacters counts as not
// included. (The same third-party measurement reports that CloudFormation
// refuses that case instead when the type is required, "All characters of
// the desired type have been excluded"; Coffer is lenient here.)
//
// Errors (all ErrInvalidParameter; the password never appears in them):
// length outside 1..4096, every character excluded, or length smaller than
// the number of required types.
func RandomPassword(spec PasswordSpec) (string, error) {
	length := spec.Length
	if length == 0 {
		length = pwDefaultLength
	}
	if length < 1 || length > pwMaxLength {
		return "", &Error{Kind: ErrInvalidParameter,
			Message: fmt.Sprintf("PasswordLength must be between 1 and %d.", pwMaxLength)}
	}

	var types [4]string
	nt := 0
	for _, t := range [...]struct {
		chars    string
		excluded bool
	}{
		{pwUpper, spec.ExcludeUppercase},
		{pwLower, spec.ExcludeLowercase},
		{pwDigits, spec.ExcludeNumbers},
		{pwPunctuation, spec.ExcludePunctuation},
	} {
		if t.excluded {
			continue
		}
		if chars := pwWithout(t.chars, spec.ExcludeCharacters); chars != "" {
			types[nt] = chars
			nt++
		}
	}
	pool := strings.Join(types[:nt], "")
	if spec.IncludeSpace && !strings.ContainsRune(spec.ExcludeCharacters, ' ') {
		pool += " "
	}
	if pool == "" {
		return "", &Error{Kind: ErrInvalidParameter, Message: msgPwAllExcluded}
	}
	required := types[:nt]
	if spec.RequireEachIncludedType != nil && !*spec.RequireEachIncludedType {
		required = nil
	}
	if length < int64(len(required)) {
		return "", &Error{Kind: ErrInvalidParameter, Message: msgPwTooShort}
	}

	r := pwRandom{}
	defer r.wipe()
	out := make([]byte, length)
	defer clear(out)
	for i := range out {
		from := pool
		if i < len(required) {
			from = required[i]
		}
		c, err := r.intn(len(from))
		if err != nil {
			return "", err
		}
		out[i] = from[c]
	}
	if len(required) > 0 {
		for i := len(out) - 1; i > 0; i-- {
			j, err := r.intn(i + 1)
			if err != nil {
				return "", err
			}
			out[i], out[j] = out[j], out[i]
		}
	}
	return string(out), nil
}

// pwWithout returns the characters of set that are not in exclude.
func pwWithout(set, exclude string) string {
	if exclude == "" {
		return set
	}
	var b strings.Builder
	for i := 0; i < len(set); i++ {
		if strings.IndexByte(exclude, set[i]) < 0 {
			b.WriteByte(set[i])
		}
	}
	return b.String()
}

// pwRandom hands out uniform integers from crypto/rand, reading random bytes
// in small blocks (a 32-character password needs about 70 bytes; bigger
// reads cost more than they save).
type pwRandom struct {
	buf [128]byte
	off int // next unread byte in buf[:n]
	n   int // bytes filled; off == n means "read more"
}

func (r *pwRandom) byte() (byte, error) {
	if r.off == r.n {
		if _, err := rand.Read(r.buf[:]); err != nil {
			return 0, fmt.Errorf("read random bytes: %w", err)
		}
		r.off, r.n = 0, len(r.buf)
	}
	b := r.buf[r.off]
	r.off++
	return b, nil
}

// intn returns a uniform integer in [0, n) for 1 ≤ n ≤ 65536, by rejection:
// draws at or above the largest multiple of n that fits are discarded, so
// every result is equally likely.
func (r *pwRandom) intn(n int) (int, error) {
	if n <= 0 || n > 1<<16 {
		panic("secrets: pwRandom.intn out of range") // caller bug, never input
	}
	if n <= 256 {
		limit := 256 - 256%n
		for {
			b, err := r.byte()
			if err != nil {
				return 0, err
			}
			if int(b) < limit {
				return int(b) % n, nil
			}
		}
	}
	limit := 1<<16 - (1<<16)%n
	for {
		hi, err := r.byte()
		if err != nil {
			return 0, err
		}
		lo, err := r.byte()
		if err != nil {
			return 0, err
		}
		if v := int(hi)<<8 | int(lo); v < limit {
			return v % n, nil
		}
	}
}

// wipe clears the random bytes: they determine the password.
func (r *pwRandom) wipe() { clear(r.buf[:]) }
