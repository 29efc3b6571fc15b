package secrets_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/secrets"
)

const (
	upper       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower       = "abcdefghijklmnopqrstuvwxyz"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

func ptr[T any](v T) *T { return &v }

func mustPassword(t *testing.T, spec secrets.PasswordSpec) string {
	t.Helper()
	p, err := secrets.RandomPassword(spec)
	if err != nil {
		t.Fatalf("RandomPassword(%+v): %v", spec, err)
	}
	return p
}

func TestPasswordPunctuationIs32Characters(t *testing.T) {
	if len(punctuation) != 32 {
		t.Fatalf("test alphabet has %d punctuation characters", len(punctuation))
	}
	// Every printable ASCII character is in exactly one class (space aside).
	for c := byte('!'); c <= '~'; c++ {
		n := 0
		for _, set := range []string{upper, lower, digits, punctuation} {
			if strings.IndexByte(set, c) >= 0 {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q is in %d classes", c, n)
		}
	}
}

func TestPasswordLength(t *testing.T) {
	for _, tc := range []struct {
		spec secrets.PasswordSpec
		want int
	}{
		{secrets.PasswordSpec{}, 32},
		{secrets.PasswordSpec{Length: 4}, 4},
		{secrets.PasswordSpec{Length: 120, ExcludeCharacters: "xyzDje@?!."}, 120},
		{secrets.PasswordSpec{Length: 4096}, 4096},
		{secrets.PasswordSpec{Length: 1, RequireEachIncludedType: ptr(false)}, 1},
		{secrets.PasswordSpec{Length: 1, ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true}, 1},
	} {
		if got := len(mustPassword(t, tc.spec)); got != tc.want {
			t.Errorf("%+v: length %d, want %d", tc.spec, got, tc.want)
		}
	}
}

// allowedOnly fails if p has a character outside allowed.
func allowedOnly(t *testing.T, p, allowed string) {
	t.Helper()
	for i := 0; i < len(p); i++ {
		if strings.IndexByte(allowed, p[i]) < 0 {
			t.Fatalf("character %q not allowed (allowed %q)", p[i], allowed)
		}
	}
}

func TestPasswordExclusions(t *testing.T) {
	all := upper + lower + digits + punctuation
	for _, tc := range []struct {
		name    string
		spec    secrets.PasswordSpec
		allowed string
	}{
		{"default", secrets.PasswordSpec{}, all},
		{"no numbers", secrets.PasswordSpec{ExcludeNumbers: true}, upper + lower + punctuation},
		{"no punctuation", secrets.PasswordSpec{ExcludePunctuation: true}, upper + lower + digits},
		{"no upper", secrets.PasswordSpec{ExcludeUppercase: true}, lower + digits + punctuation},
		{"no lower", secrets.PasswordSpec{ExcludeLowercase: true}, upper + digits + punctuation},
		{"space", secrets.PasswordSpec{IncludeSpace: true}, all + " "},
		{"space excluded by characters", secrets.PasswordSpec{IncludeSpace: true, ExcludeCharacters: " "}, all},
		{"recorded exclude characters", secrets.PasswordSpec{Length: 120, ExcludeCharacters: "xyzDje@?!."},
			strings.NewReplacer("x", "", "y", "", "z", "", "D", "", "j", "", "e", "", "@", "", "?", "", "!", "", ".", "").Replace(all)},
		{"digits only", secrets.PasswordSpec{ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true}, digits},
		{"space only", secrets.PasswordSpec{ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true, ExcludeNumbers: true, IncludeSpace: true}, " "},
		{"non-ASCII exclusions are harmless", secrets.PasswordSpec{ExcludeCharacters: "äöü€\xff"}, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[byte]bool{}
			for range 300 {
				p := mustPassword(t, tc.spec)
				allowedOnly(t, p, tc.allowed)
				for i := 0; i < len(p); i++ {
					seen[p[i]] = true
				}
			}
			// Over 300 draws every allowed character shows up.
			for i := 0; i < len(tc.allowed); i++ {
				if !seen[tc.allowed[i]] {
					t.Errorf("character %q never drawn", tc.allowed[i])
				}
			}
		})
	}
}

func countIn(p, set string) int {
	n := 0
	for i := 0; i < len(p); i++ {
		if strings.IndexByte(set, p[i]) >= 0 {
			n++
		}
	}
	return n
}

func TestPasswordRequiredTypes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spec     secrets.PasswordSpec
		required []string
	}{
		{"all four, shortest", secrets.PasswordSpec{Length: 4}, []string{upper, lower, digits, punctuation}},
		{"all four, default length", secrets.PasswordSpec{}, []string{upper, lower, digits, punctuation}},
		{"space is not required", secrets.PasswordSpec{Length: 4, IncludeSpace: true}, []string{upper, lower, digits, punctuation}},
		{"three types", secrets.PasswordSpec{Length: 3, ExcludeNumbers: true}, []string{upper, lower, punctuation}},
		{"type emptied by ExcludeCharacters is not included", secrets.PasswordSpec{Length: 3, ExcludeCharacters: digits}, []string{upper, lower, punctuation}},
		{"required char from the remaining ones", secrets.PasswordSpec{Length: 4, ExcludeCharacters: "0123456789"[1:]}, []string{upper, lower, "0", punctuation}},
		{"explicit true", secrets.PasswordSpec{Length: 4, RequireEachIncludedType: ptr(true)}, []string{upper, lower, digits, punctuation}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2000 {
				p := mustPassword(t, tc.spec)
				for _, set := range tc.required {
					if countIn(p, set) == 0 {
						t.Fatalf("password lacks a character of %q", set)
					}
				}
			}
		})
	}
}

// Without RequireEachIncludedType a short password regularly lacks a type.
func TestPasswordNotRequired(t *testing.T) {
	missing := 0
	for range 200 {
		p := mustPassword(t, secrets.PasswordSpec{Length: 4, RequireEachIncludedType: ptr(false)})
		for _, set := range []string{upper, lower, digits, punctuation} {
			if countIn(p, set) == 0 {
				missing++
				break
			}
		}
	}
	// P(a 4-character password has all four types) ≈ 0.065.
	if missing < 150 {
		t.Errorf("only %d of 200 passwords lacked a type; types seem to be forced", missing)
	}
}

// The required characters land at uniformly random positions: with a
// single allowed digit ("7") among 26 lower case letters, count where the 7s
// fall in 8-character passwords.
func TestPasswordRequiredPositionsUniform(t *testing.T) {
	spec := secrets.PasswordSpec{Length: 8, ExcludeUppercase: true, ExcludePunctuation: true, ExcludeCharacters: "012345689"}
	const draws = 20000
	var pos [8]int
	total := 0
	for range draws {
		p := mustPassword(t, spec)
		if countIn(p, "7") == 0 {
			t.Fatal("required digit missing")
		}
		for i := 0; i < len(p); i++ {
			if p[i] == '7' {
				pos[i]++
				total++
			}
		}
	}
	// Each position expects total/8; allow ±15% (the binomial standard
	// deviation is about 2%).
	want := float64(total) / 8
	for i, n := range pos {
		if float64(n) < want*0.85 || float64(n) > want*1.15 {
			t.Errorf("position %d holds %d sevens, want about %.0f (all: %v)", i, n, want, pos)
		}
	}
}

// Chi-square sanity check of the per-character distribution without
// required types (pure uniform draws from 94 characters).
func TestPasswordUniform(t *testing.T) {
	alphabet := upper + lower + digits + punctuation
	counts := map[byte]int{}
	n := 0
	for range 50 {
		p := mustPassword(t, secrets.PasswordSpec{Length: 4096, RequireEachIncludedType: ptr(false)})
		for i := 0; i < len(p); i++ {
			counts[p[i]]++
			n++
		}
	}
	if len(counts) != len(alphabet) {
		t.Fatalf("%d distinct characters drawn, want %d", len(counts), len(alphabet))
	}
	exp := float64(n) / float64(len(alphabet))
	chi := 0.0
	for i := 0; i < len(alphabet); i++ {
		d := float64(counts[alphabet[i]]) - exp
		chi += d * d / exp
	}
	// 93 degrees of freedom: mean 93, sd ≈ 13.6; 200 is beyond p = 1e-9.
	if chi > 200 {
		t.Errorf("chi-square %.1f over 93 degrees of freedom: distribution looks biased", chi)
	}
}

func TestPasswordErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec secrets.PasswordSpec
		msg  string
	}{
		{"negative length", secrets.PasswordSpec{Length: -1}, "PasswordLength must be between 1 and 4096."},
		{"too long", secrets.PasswordSpec{Length: 4097}, "PasswordLength must be between 1 and 4096."},
		{"shorter than required types", secrets.PasswordSpec{Length: 3}, "Password length is too short based on the required types."},
		{"shorter than two required types", secrets.PasswordSpec{Length: 1, ExcludeNumbers: true, ExcludePunctuation: true}, "Password length is too short based on the required types."},
		{"everything excluded by flags", secrets.PasswordSpec{ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true}, "All characters have been excluded from selection."},
		{"everything excluded by characters", secrets.PasswordSpec{IncludeSpace: true, ExcludeCharacters: " " + upper + lower + digits + punctuation}, "All characters have been excluded from selection."},
		{"everything excluded, not required", secrets.PasswordSpec{ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludeCharacters: punctuation, RequireEachIncludedType: ptr(false)}, "All characters have been excluded from selection."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := secrets.RandomPassword(tc.spec)
			if err == nil {
				t.Fatalf("got a password of length %d, want an error", len(p))
			}
			if p != "" {
				t.Error("password returned with an error")
			}
			if !errors.Is(err, secrets.ErrInvalidParameter) {
				t.Errorf("kind: got %v, want ErrInvalidParameter", err)
			}
			if err.Error() != tc.msg {
				t.Errorf("message: got %q, want %q", err.Error(), tc.msg)
			}
		})
	}
}

func BenchmarkRandomPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := secrets.RandomPassword(secrets.PasswordSpec{Length: 32}); err != nil {
			b.Fatal(err)
		}
	}
}
