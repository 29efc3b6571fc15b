// Package iam owns the AWS IAM policy language: parsing and validating
// policy documents (identity, resource, KMS key, role trust, permissions
// boundary and session policies), compiling them once, and evaluating
// requests against them the way AWS does within one account (with the
// cross-account rule when the resource belongs to another account).
//
// Parse turns a JSON document into an immutable *Policy or a *PolicyError
// that carries AWS's MalformedPolicyDocument text. Evaluate takes a Request
// (principal, action, resource, condition context) and the Set of policies
// that apply, and returns a Decision that says why, which statements
// produced it, and renders AWS's AccessDenied message. BroadAccess and
// ValidateResourcePolicy implement Secrets Manager's BlockPublicPolicy and
// ValidateResourcePolicy checks.
//
// Evaluation does not allocate for the usual keys; compiled policies are
// safe for concurrent use. The package imports only the standard library.
package iam
