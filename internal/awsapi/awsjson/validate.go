package awsjson

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError is the framework validation failure AWS reports as a
// ValidationException. Errors holds one rendered entry per violated
// constraint, in the order they were found; Total counts every violation,
// including those not rendered because of the MaxRenderedErrors cap.
type ValidationError struct {
	Errors []string
	Total  int
}

// Error renders AWS's text: "1 validation error detected: <e>" or
// "<n> validation errors detected: <e1>; <e2>; …".
func (e *ValidationError) Error() string {
	n := e.Total
	if n < len(e.Errors) {
		n = len(e.Errors)
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(n))
	if n == 1 {
		b.WriteString(" validation error detected: ")
	} else {
		b.WriteString(" validation errors detected: ")
	}
	for i, s := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// MaxRenderedErrors caps how many violations a ValidationError renders; the
// count in the message still reports all of them. AWS publishes no cap; this
// one only bounds the message a hostile request can provoke.
const MaxRenderedErrors = 100

// maxValueRunes caps how much of a value a message echoes. Longer values are
// cut and end in "...". (AWS echoes values in full.)
const maxValueRunes = 256

// Limit is an optional numeric bound of a Rule.
type Limit struct {
	N   int64
	Set bool
}

// Some returns the Limit n.
func Some(n int64) Limit { return Limit{N: n, Set: true} }

// Rule holds the model constraints of one shape, as used by the generated
// Validate methods. A nil *Rule means "no constraints".
type Rule struct {
	// Sensitive shapes are never rendered: messages say "Value at 'x'".
	Sensitive bool
	// MinLen and MaxLen bound the length of a string (in Unicode code
	// points), a blob (bytes), a list (items) or a map (entries).
	MinLen, MaxLen Limit
	// Min and Max bound a number.
	Min, Max Limit
	// Enum lists the allowed values of an enum string, in model order.
	Enum []string
	// Pattern is the model's pattern compiled for a whole-value match;
	// PatternText is the model's original text, rendered in messages.
	Pattern     *regexp.Regexp
	PatternText string
	// Member constrains each element of a list of scalars.
	Member *Rule
	// Key and Value constrain the entries of a map.
	Key, Value *Rule
}

func (r *Rule) sensitive() bool { return r != nil && r.Sensitive }

// Constraint phrases, verbatim from AWS's framework messages.
const (
	phraseNull = "Member must not be null"
)

func phraseMaxLen(n int64) string {
	return "Member must have length less than or equal to " + strconv.FormatInt(n, 10)
}

func phraseMinLen(n int64) string {
	return "Member must have length greater than or equal to " + strconv.FormatInt(n, 10)
}

func phraseMax(n int64) string {
	return "Member must have value less than or equal to " + strconv.FormatInt(n, 10)
}

func phraseMin(n int64) string {
	return "Member must have value greater than or equal to " + strconv.FormatInt(n, 10)
}

func phraseEnum(values []string) string {
	return "Member must satisfy enum value set: [" + strings.Join(values, ", ") + "]"
}

func phrasePattern(text string) string {
	return "Member must satisfy regular expression pattern: " + text
}

// phrases lists every constraint of r in the order AWS lists them inside
// "Member must satisfy constraint: [...]": length, value, pattern, enum.
func (r *Rule) phrases() string {
	var p []string
	if r.MaxLen.Set {
		p = append(p, phraseMaxLen(r.MaxLen.N))
	}
	if r.MinLen.Set {
		p = append(p, phraseMinLen(r.MinLen.N))
	}
	if r.Max.Set {
		p = append(p, phraseMax(r.Max.N))
	}
	if r.Min.Set {
		p = append(p, phraseMin(r.Min.N))
	}
	if r.Pattern != nil {
		p = append(p, phrasePattern(r.PatternText))
	}
	if r.Enum != nil {
		p = append(p, phraseEnum(r.Enum))
	}
	return "[" + strings.Join(p, ", ") + "]"
}

// Validator collects constraint violations for one input. The zero value is
// ready to use; Err returns the result.
type Validator struct {
	errs  []string
	total int
}

// Err returns a *ValidationError when any constraint was violated, else nil.
func (v *Validator) Err() error {
	if v.total == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs, Total: v.total}
}

// Join returns the path of member name below parent ("" for the top level).
func Join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// elem returns the path of the i-th (0-based) element of the list at path,
// in AWS's 1-based form: "tags.1.member".
func elem(path string, i int) string {
	return path + "." + strconv.Itoa(i+1) + ".member"
}

// value renderings
const (
	renderNull   = "null"
	renderHidden = "" // sensitive: "Value at 'x'"
)

// fail records one violation. rendered is the value as shown between
// "Value " and " at": renderNull, renderHidden, or a quoted rendering.
func (v *Validator) fail(parent, name, rendered, phrase string) {
	v.total++
	if len(v.errs) >= MaxRenderedErrors {
		return
	}
	var b strings.Builder
	b.WriteString("Value ")
	if rendered != renderHidden {
		b.WriteString(rendered)
		b.WriteByte(' ')
	}
	b.WriteString("at '")
	if parent != "" {
		b.WriteString(parent)
		b.WriteByte('.')
	}
	b.WriteString(name)
	b.WriteString("' failed to satisfy constraint: ")
	b.WriteString(phrase)
	v.errs = append(v.errs, b.String())
}

func (v *Validator) null(parent, name string, r *Rule) {
	if r.sensitive() {
		v.fail(parent, name, renderHidden, phraseNull)
		return
	}
	v.fail(parent, name, renderNull, phraseNull)
}

// quote renders s as 's', cut to maxValueRunes.
func quote(s string) string {
	if len(s) > maxValueRunes {
		n := 0
		for i := range s {
			if n == maxValueRunes {
				return "'" + s[:i] + "...'"
			}
			n++
		}
	}
	return "'" + s + "'"
}

// renderList renders a list of strings as Java does ("[a, b]"), cut to
// maxValueRunes.
func renderList(l []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range l {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
		if b.Len() > maxValueRunes*utf8.UTFMax {
			break
		}
	}
	b.WriteByte(']')
	return quote(b.String())
}

// renderMap renders a map of strings as Java does ("{k=v, k2=v2}"), keys
// sorted, cut to maxValueRunes.
func renderMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
		if b.Len() > maxValueRunes*utf8.UTFMax {
			break
		}
	}
	b.WriteByte('}')
	return quote(b.String())
}

// Required reports a missing required member that has no other constraint
// to check (booleans, timestamps, unconstrained strings).
func (v *Validator) Required(parent, name string, present bool, r *Rule) {
	if !present {
		v.null(parent, name, r)
	}
}

// String checks a string member.
func (v *Validator) String(parent, name string, s *string, required bool, r *Rule) {
	if s == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	val := *s
	render := func() string {
		if r.Sensitive {
			return renderHidden
		}
		return quote(val)
	}
	if r.Enum != nil && !slices.Contains(r.Enum, val) {
		v.fail(parent, name, render(), phraseEnum(r.Enum))
	}
	if r.Pattern != nil && !r.Pattern.MatchString(val) {
		v.fail(parent, name, render(), phrasePattern(r.PatternText))
	}
	if r.MaxLen.Set || r.MinLen.Set {
		// Count code points only when the byte length cannot decide: a
		// string has at most len bytes and at least len/UTFMax code points.
		n := int64(len(val))
		if (r.MaxLen.Set && n > r.MaxLen.N) || (r.MinLen.Set && n < utf8.UTFMax*r.MinLen.N) {
			n = int64(utf8.RuneCountInString(val))
		}
		if r.MaxLen.Set && n > r.MaxLen.N {
			v.fail(parent, name, render(), phraseMaxLen(r.MaxLen.N))
		}
		if r.MinLen.Set && n < r.MinLen.N {
			v.fail(parent, name, render(), phraseMinLen(r.MinLen.N))
		}
	}
}

// stringOK reports whether s satisfies every constraint of r.
func (r *Rule) stringOK(s string) bool {
	if r == nil {
		return true
	}
	if r.Enum != nil && !slices.Contains(r.Enum, s) {
		return false
	}
	if r.Pattern != nil && !r.Pattern.MatchString(s) {
		return false
	}
	if r.MaxLen.Set || r.MinLen.Set {
		n := int64(utf8.RuneCountInString(s))
		if (r.MaxLen.Set && n > r.MaxLen.N) || (r.MinLen.Set && n < r.MinLen.N) {
			return false
		}
	}
	return true
}

// Int checks an integer or long member.
func (v *Validator) Int(parent, name string, n *int64, required bool, r *Rule) {
	if n == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	render := func() string {
		if r.Sensitive {
			return renderHidden
		}
		return "'" + strconv.FormatInt(*n, 10) + "'"
	}
	if r.Max.Set && *n > r.Max.N {
		v.fail(parent, name, render(), phraseMax(r.Max.N))
	}
	if r.Min.Set && *n < r.Min.N {
		v.fail(parent, name, render(), phraseMin(r.Min.N))
	}
}

// Float checks a float or double member.
func (v *Validator) Float(parent, name string, f *float64, required bool, r *Rule) {
	if f == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	render := func() string {
		if r.Sensitive {
			return renderHidden
		}
		return "'" + strconv.FormatFloat(*f, 'f', -1, 64) + "'"
	}
	if r.Max.Set && *f > float64(r.Max.N) {
		v.fail(parent, name, render(), phraseMax(r.Max.N))
	}
	if r.Min.Set && *f < float64(r.Min.N) {
		v.fail(parent, name, render(), phraseMin(r.Min.N))
	}
}

// Blob checks a blob member; nil means absent. Blob values are never
// rendered ("Value at 'ciphertextBlob'", as AWS KMS reports them).
func (v *Validator) Blob(parent, name string, b []byte, required bool, r *Rule) {
	if b == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	if r.MaxLen.Set && int64(len(b)) > r.MaxLen.N {
		v.fail(parent, name, renderHidden, phraseMaxLen(r.MaxLen.N))
	}
	if r.MinLen.Set && int64(len(b)) < r.MinLen.N {
		v.fail(parent, name, renderHidden, phraseMinLen(r.MinLen.N))
	}
}

// length checks the length bounds of a list or map with n items.
func (v *Validator) length(parent, name string, n int, r *Rule, render func() string) {
	if r.MaxLen.Set && int64(n) > r.MaxLen.N {
		v.fail(parent, name, render(), phraseMaxLen(r.MaxLen.N))
	}
	if r.MinLen.Set && int64(n) < r.MinLen.N {
		v.fail(parent, name, render(), phraseMinLen(r.MinLen.N))
	}
}

// Strings checks a list of strings (or enum strings): its own length and,
// through r.Member, its elements. As AWS does, element violations are
// reported once, at the list's path, listing all element constraints:
// "Member must satisfy constraint: [...]".
func (v *Validator) Strings(parent, name string, l []string, required bool, r *Rule) {
	if l == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	hidden := r.Sensitive || r.Member.sensitive()
	render := func() string {
		if hidden {
			return renderHidden
		}
		return renderList(l)
	}
	v.length(parent, name, len(l), r, render)
	if r.Member == nil {
		return
	}
	for _, s := range l {
		if !r.Member.stringOK(s) {
			v.fail(parent, name, render(), "Member must satisfy constraint: "+r.Member.phrases())
			return
		}
	}
}

// StringMap checks a map of strings: its length and, through r.Key and
// r.Value, its entries, reported at the map's path as AWS does:
// "Map keys must satisfy constraint: [...]" and
// "Map value must satisfy constraint: [...]".
func (v *Validator) StringMap(parent, name string, m map[string]string, required bool, r *Rule) {
	if m == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	hidden := r.Sensitive || r.Key.sensitive() || r.Value.sensitive()
	render := func() string {
		if hidden {
			return renderHidden
		}
		return renderMap(m)
	}
	v.length(parent, name, len(m), r, render)
	keysOK, valuesOK := true, true
	for k, val := range m {
		keysOK = keysOK && r.Key.stringOK(k)
		valuesOK = valuesOK && r.Value.stringOK(val)
	}
	if !keysOK {
		v.fail(parent, name, render(), "Map keys must satisfy constraint: "+r.Key.phrases())
	}
	if !valuesOK {
		v.fail(parent, name, render(), "Map value must satisfy constraint: "+r.Value.phrases())
	}
}

// ValidateMap checks the presence and length of a map whose values are not
// strings, and its keys through r.Key.
func ValidateMap[V any](v *Validator, parent, name string, m map[string]V, required bool, r *Rule) {
	if m == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r == nil {
		return
	}
	v.length(parent, name, len(m), r, func() string { return renderHidden })
	for k := range m {
		if !r.Key.stringOK(k) {
			v.fail(parent, name, renderHidden, "Map keys must satisfy constraint: "+r.Key.phrases())
			return
		}
	}
}

// ValidateStruct checks a structure member: presence, then (when f is not
// nil) its own members below the path parent.name.
func ValidateStruct[T any](v *Validator, parent, name string, s *T, required bool, f func(*T, *Validator, string)) {
	if s == nil {
		if required {
			v.fail(parent, name, renderNull, phraseNull)
		}
		return
	}
	if f != nil {
		f(s, v, Join(parent, name))
	}
}

// ValidateList checks a list whose elements are not plain strings: presence,
// length, then (when f is not nil) each element below the path
// parent.name.<i>.member (1-based). Such lists are not rendered in messages.
func ValidateList[T any](v *Validator, parent, name string, l []T, required bool, r *Rule, f func(*T, *Validator, string)) {
	if l == nil {
		if required {
			v.null(parent, name, r)
		}
		return
	}
	if r != nil {
		v.length(parent, name, len(l), r, func() string { return renderHidden })
	}
	if f == nil {
		return
	}
	path := Join(parent, name)
	for i := range l {
		f(&l[i], v, elem(path, i))
	}
}
