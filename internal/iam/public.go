package iam

import "strconv"

// Public-access and lockout checks for Secrets Manager's BlockPublicPolicy
// and ValidateResourcePolicy. AWS runs Zelkova (an SMT-based analyser);
// this is the conservative approximation described in the project spec
// (§2.7): it may call a policy broad that Zelkova would accept, never the
// other way round for the shapes it recognises.

// restrictingKeys are the condition keys whose fixed values make a
// statement non-public (S3's "meaning of public", plus aws:PrincipalArn,
// aws:PrincipalAccount and aws:PrincipalOrgID).
var restrictingKeys = map[string]bool{
	"aws:sourceip":         true,
	"aws:sourcevpc":        true,
	"aws:sourcevpce":       true,
	"aws:sourceaccount":    true,
	"aws:sourcearn":        true,
	"aws:sourceowner":      true,
	"aws:userid":           true,
	"aws:principalarn":     true,
	"aws:principalaccount": true,
	"aws:principalorgid":   true,
}

// BroadAccess reports whether a resource policy grants broad access: an
// Allow statement whose Principal is "*" (or {"AWS":"*"}), names an account
// other than account, or uses NotPrincipal — and that is not narrowed by a
// positive condition with fixed values on one of aws:SourceIp (IpAddress,
// not /0), aws:SourceVpc, aws:SourceVpce, aws:SourceAccount, aws:SourceArn,
// aws:SourceOwner, aws:userid, aws:PrincipalArn, aws:PrincipalAccount or
// aws:PrincipalOrgID. IfExists and ForAllValues conditions do not narrow
// (they hold when the key is missing); neither do values with wildcards or
// policy variables. It returns the index of the first broad statement.
func BroadAccess(p *Policy, account string) (bool, int) {
	for _, i := range p.allows {
		s := &p.stmts[i]
		if s.principal == nil {
			continue
		}
		if !s.notPrincipal && !s.principal.broadAccounts(account) {
			continue
		}
		if narrowed(s.conds) {
			continue
		}
		return true, int(i)
	}
	return false, -1
}

func narrowed(conds []clause) bool {
	for i := range conds {
		c := &conds[i]
		if !restrictingKeys[c.key] || c.ifExists || c.set == setAll || c.info.neg || len(c.raw) == 0 {
			continue
		}
		switch c.info.fam {
		case famIP:
			if c.key != "aws:sourceip" {
				continue
			}
			open := false
			for _, n := range c.nets {
				if n.Bits() == 0 {
					open = true
				}
			}
			if !open {
				return true
			}
		case famString:
			fixed := true
			for j := range c.pats {
				if c.pats[j].mode != pmExact {
					fixed = false
				}
			}
			if fixed {
				return true
			}
		case famArn:
			fixed := true
			for j := range c.arns {
				a := &c.arns[j]
				if a.whole != nil {
					fixed = false
					continue
				}
				for k := range a.parts {
					if a.parts[k].mode != pmExact {
						fixed = false
					}
				}
			}
			if fixed {
				return true
			}
		}
	}
	return false
}

// Finding is one ValidateResourcePolicy result entry.
type Finding struct {
	CheckName    string
	ErrorMessage string
}

// Check names used in findings (AWS does not document its own).
const (
	CheckBroadAccess = "BROAD_ACCESS_CHECK"
	CheckLockout     = "LOCKOUT_CHECK"
)

// ValidateResourcePolicy runs the checks of Secrets Manager's
// ValidateResourcePolicy on a secret resource policy. A document that does
// not parse returns the *PolicyError (MalformedPolicyDocumentException at
// the edge). Otherwise it returns the findings; none means the policy
// passed. secretARN, when known, sharpens the lockout check.
func ValidateResourcePolicy(doc, account, secretARN string) ([]Finding, error) {
	p, err := Parse(doc, KindResource)
	if err != nil {
		return nil, err
	}
	var out []Finding
	if broad, i := BroadAccess(p, account); broad {
		out = append(out, Finding{
			CheckName:    CheckBroadAccess,
			ErrorMessage: "The resource policy grants broad access to the secret: statement " + stmtName(p, i) + " allows a wildcard, foreign-account or NotPrincipal principal without a condition that limits it to fixed principals, accounts or networks.",
		})
	}
	if locked, i := lockout(p, account, secretARN); locked {
		out = append(out, Finding{
			CheckName:    CheckLockout,
			ErrorMessage: "The resource policy locks out every caller: statement " + stmtName(p, i) + " denies managing the resource policy to all principals without an exception.",
		})
	}
	return out, nil
}

func stmtName(p *Policy, i int) string {
	s := strconv.Itoa(i)
	if sid := p.stmts[i].sid; sid != "" {
		s += " (" + strconv.Quote(sid) + ")"
	}
	return s
}

// lockout finds an unconditional Deny, to every principal of the account,
// of PutResourcePolicy or DeleteResourcePolicy on the secret.
func lockout(p *Policy, account, secretARN string) (bool, int) {
	for _, i := range p.denies {
		s := &p.stmts[i]
		if len(s.conds) > 0 || s.principal == nil || s.notPrincipal {
			continue
		}
		if !s.principal.any && !has(s.principal.accounts, account) {
			continue
		}
		if !actionIn(s, "secretsmanager:PutResourcePolicy") && !actionIn(s, "secretsmanager:DeleteResourcePolicy") {
			continue
		}
		if !resourceCovers(s, secretARN) {
			continue
		}
		return true, int(i)
	}
	return false, -1
}

func actionIn(s *statement, action string) bool {
	r := splitAction(action)
	hit := false
	for i := range s.actions {
		if s.actions[i].match(&r) {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

func resourceCovers(s *statement, secretARN string) bool {
	if s.notResource {
		return false
	}
	for i := range s.resources {
		r := &s.resources[i]
		if r.mode == pmAny {
			return true
		}
		if secretARN != "" && r.mode != pmVar && r.match(secretARN, false, false) {
			return true
		}
	}
	return false
}
