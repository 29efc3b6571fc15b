package identity

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coffer-dev/coffer/internal/iam"
)

// Constraint texts of the AWS framework validation message.
const (
	cPattern = "Member must satisfy regular expression pattern: "
	cLenMax  = "Member must have length less than or equal to "
	cLenMin  = "Member must have length greater than or equal to "
)

// checkName validates a user, role or policy name (pattern [\w+=,.@-]+).
func checkName(member, v string, max int) error {
	if n := utf8.RuneCountInString(v); n < 1 {
		return validationError(member, v, cLenMin+"1")
	} else if n > max {
		return validationError(member, v, cLenMax+strconv.Itoa(max))
	}
	if !nameRE.MatchString(v) {
		return validationError(member, v, cPattern+`[\w+=,.@-]+`)
	}
	return nil
}

// checkPath validates an entity path ("/" or "/a/b/"); "" means "/".
func checkPath(member, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	if len(v) > 512 {
		return "", validationError(member, v, cLenMax+"512")
	}
	if !pathRE.MatchString(v) {
		return "", validationError(member, v, cPattern+`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return v, nil
}

func checkPolicyPath(member, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	if len(v) > 512 {
		return "", validationError(member, v, cLenMax+"512")
	}
	if !policyPathRE.MatchString(v) {
		return "", validationError(member, v, cPattern+`((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	return v, nil
}

// MaxTags is the number of tags an IAM entity or session may carry.
const MaxTags = 50

// CheckTags validates tags as IAM does (also used for session tags).
func CheckTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return errorf(ErrLimitExceeded, "Cannot exceed quota for TagsPerEntity: %d", MaxTags)
	}
	for i, t := range tags {
		member := "tags." + strconv.Itoa(i+1) + ".member."
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 {
			return validationError(member+"key", t.Key, cLenMax+"128")
		}
		if !tagRE.MatchString(t.Key) {
			return validationError(member+"key", t.Key, cPattern+`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return validationError(member+"value", t.Value, cLenMax+"256")
		}
		if !tagRE.MatchString(t.Value) {
			return validationError(member+"value", t.Value, cPattern+`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errorf(ErrInvalidInput, "Tag keys that begin with aws: are reserved for AWS use.")
		}
		for _, u := range tags[:i] {
			if strings.EqualFold(u.Key, t.Key) {
				return errorf(ErrInvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	return nil
}

// nonSpaceLen counts the characters IAM's size quotas count (whitespace
// is not counted).
func nonSpaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// Quotas (IAM defaults).
const (
	maxInlineUserPolicies = 2048  // aggregate size of a user's inline policies
	maxInlineRolePolicies = 10240 // aggregate size of a role's inline policies
	maxManagedPolicySize  = 6144
	maxTrustPolicySize    = 2048
	maxAttachedPolicies   = 10
	maxPolicyVersions     = 5
	maxAccessKeysPerUser  = 2
)

// parsePolicy parses a policy document, turning a parse error into
// MalformedPolicyDocument with AWS's text.
func parsePolicy(doc string, kind iam.Kind) (*iam.Policy, error) {
	if len(doc) > 131072 {
		return nil, validationError("policyDocument", "…", cLenMax+"131072")
	}
	p, err := iam.Parse(doc, kind)
	if err != nil {
		var pe *iam.PolicyError
		if ok := asPolicyError(err, &pe); ok {
			return nil, &Error{Kind: ErrMalformedPolicy, Message: pe.Message}
		}
		return nil, &Error{Kind: ErrMalformedPolicy, Message: "Syntax errors in policy."}
	}
	return p, nil
}

func asPolicyError(err error, pe **iam.PolicyError) bool {
	e, ok := err.(*iam.PolicyError)
	if ok {
		*pe = e
	}
	return ok
}

// requireCurrentVersion is CreatePolicy's rule for managed policies.
func requireCurrentVersion(p *iam.Policy) error {
	if p.Version() != iam.Version2012 {
		return errorf(ErrMalformedPolicy, "Policy document must be version 2012-10-17 or greater.")
	}
	return nil
}
