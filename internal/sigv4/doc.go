// Package sigv4 owns server-side verification of AWS Signature Version 4
// (AWS4-HMAC-SHA256): parsing the authentication information of a request
// (Authorization header or presigned query string), checking its credential
// scope and its time, and recomputing and comparing the signature.
//
// It knows nothing about access keys, secrets or HTTP responses. The edge
// looks the access key up, derives (and caches) the signing key with
// [SigningKey], and turns an [*Error] into an AWS error response.
//
// # Use
//
//	a, err := sigv4.Parse(r)                      // KindMissing, KindIncomplete, KindMismatch
//	err = a.CheckTime(now)                        // KindExpired
//	err = a.CheckScope("us-east-1", "secretsmanager") // KindScope
//	// look up a.AccessKeyID (unknown key → UnrecognizedClientException / InvalidClientTokenId),
//	// compare a.SecurityToken with the key's session token in constant time
//	key := sigv4.SigningKey(secret, a.Date, a.Region, a.Service) // cache per (key id, date, region, service)
//	err = a.Verify(r, body, key)                  // KindMismatch (and KindScope, defensively)
//
// Verify hashes body itself (SHA-256); the caller reads the body once, with a
// size cap, and restores r.Body for the handler. UNSIGNED-PAYLOAD and the
// STREAMING-* payload conventions are S3-only and are not accepted; an
// X-Amz-Content-Sha256 header is accepted only when it equals the true body
// hash. SigV4a (AWS4-ECDSA-P256-SHA256) is rejected as an incomplete
// signature.
//
// Presigned requests: the Go SDK's presigned STS GetCallerIdentity has no
// X-Amz-Expires and gets the 15-minute window; with X-Amz-Expires (at most
// 604800 s; botocore always sends it) the request is good until
// X-Amz-Date + X-Amz-Expires. The method is part of the signature: botocore
// presigns query-protocol operations for POST unless asked for GET, and such
// a URL verifies only when sent with POST.
//
// # Canonicalisation
//
// The canonical request is rebuilt the way aws-sdk-go-v2 and botocore build it
// for every service but S3: the escaped request path is URI-encoded a second
// time (empty path → "/"; dot segments are not removed); query names and
// values are decoded ("+" is a space) and re-encoded with the RFC 3986
// unreserved set, then sorted by encoded name and value; for a presigned
// request X-Amz-Signature is left out. Header values are trimmed, runs of
// spaces are collapsed to one (tabs are kept), repeated headers are joined
// with "," in arrival order; host comes from r.Host (also for ":authority").
// SignedHeaders must be lower-case, sorted and free of duplicates, and must
// contain host and the header the date came from (x-amz-date, else date).
//
// # Errors
//
// Every failure is an [*Error] with a [Kind] and, in Message, the text AWS
// uses. Kinds are errors themselves, so errors.Is(err, sigv4.KindExpired)
// works. No error carries a secret key, a signing key or the expected
// signature. Messages that echo the Authorization header (as AWS does) are
// capped in length.
//
// Recommended mapping at the edge (AWS's codes; status codes as AWS sends them):
//
//	Kind            JSON 1.1 (Secrets Manager, KMS)            query (STS, IAM)
//	KindMissing     MissingAuthenticationTokenException  403   MissingAuthenticationToken  403
//	KindIncomplete  IncompleteSignatureException         400   IncompleteSignature         400
//	KindMismatch    InvalidSignatureException            400   SignatureDoesNotMatch       403
//	KindExpired     InvalidSignatureException            400   SignatureDoesNotMatch       403
//	KindScope       InvalidSignatureException            400   SignatureDoesNotMatch       403
//
// Query-protocol services answer clock skew with SignatureDoesNotMatch (seen
// from STS GetCallerIdentity and AssumeRole: "Signature expired: …",
// "Signature not yet current: …", HTTP 403), not RequestExpired.
// For KindMissing, Message is the JSON services' "Missing Authentication
// Token"; STS words it "Request is missing Authentication Token".
package sigv4
