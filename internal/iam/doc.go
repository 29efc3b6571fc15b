// Package iam owns the AWS IAM policy language: parsing and validating
// policy documents (identity, resource, KMS key, role trust, permissions
// boundary and session policies), compiling them once, and evaluating
// requests against them the way AWS does within one account (with the
// cross-account rule when the resource belongs to another account).
//
// Parse turns a JSON document into an immutable *Policy or a *PolicyError
// that carries AWS's MalformedPolicyDocument text. Evaluate takes a Request
// (principal, action, resource, condition context) and the Set of policies
// that apply, and returns a Decision that says why, names the statements
// that produced it, and renders AWS's AccessDenied message. BroadAccess and
// ValidateResourcePolicy implement Secrets Manager's BlockPublicPolicy and
// ValidateResourcePolicy checks.
//
// Evaluate does not allocate (unless a policy reads aws:CurrentTime or
// aws:EpochTime that the Context does not supply); compiled policies are
// safe for concurrent use. The package imports only the standard library.
//
// # Behaviour decided here (no AWS source settled it)
//
//   - Parse accepts a missing Version and "2008-10-17" for every kind
//     (policy variables are then literal text). IAM's CreatePolicy refuses
//     both with "Policy document must be version 2012-10-17 or greater.";
//     an API that wants that rule checks Policy.Version.
//   - Unknown fields give "Syntax errors in policy." (what IAM returns), not
//     an "Unknown field" text. Duplicate JSON keys are refused the same way.
//   - Date, Numeric and IpAddress condition values that do not parse are
//     refused with "The policy failed legacy parsing" (IAM does so for
//     dates). Bool, Null and Binary values are not checked.
//   - An action vendor with characters outside [A-Za-z0-9.-] (including
//     wildcards) gives "Vendor X is not valid".
//   - Condition operator names are case-sensitive; condition key names are
//     not; values are, except for the IgnoreCase operators and Bool.
//   - A request value that does not parse for a typed operator (Numeric,
//     Date, IP) matches no policy value, so the negated operators hold.
//   - A policy variable without a value (missing key, or a key with several
//     values) and without a default matches nothing: a Resource pattern
//     holding it matches nothing, a positive condition value never matches,
//     and a negated operator therefore holds.
//   - ArnLike/ArnEquals compare the six ARN parts separately; a policy value
//     with fewer than six parts is matched as a whole string (so "*"
//     matches any ARN). Resource patterns are matched as whole strings: `*`
//     crosses ':' and '/'.
//   - A resource-policy statement with Principal "*" (or {"AWS":"*"}) names
//     the caller itself: like a session-ARN or user-ARN grant, it is not
//     limited by an implicit deny in identity policies, the permissions
//     boundary or session policies. A role-ARN grant is limited by the
//     boundary and session policies; an account grant only delegates.
//   - A Deny with NotPrincipal exempts a caller only when all its identities
//     are listed (account and user; account, role and session), and it
//     always applies to a caller with a permissions boundary, as the IAM
//     guide warns.
//   - The account root user is allowed in its own account unless an
//     explicit Deny applies; a KMS key policy or trust policy must still
//     name it (naming the account names root). That STS refuses
//     AssumeRole by root is the STS layer's business.
//   - sts:GetCallerIdentity is always allowed.
//   - Cross-account applies when the resource ARN's account differs from
//     the caller's; Resource "*" and non-ARN resources are same-account.
//   - An anonymous caller (nil Principal) gets only what a resource policy
//     grants to "*".
package iam
