// Package loadgen is the load generator behind "coffer bench": it creates
// fixture secrets (or a KMS key and ciphertexts), then drives one AWS
// operation over C keep-alive HTTP/1.1 connections for a warm-up and a
// measured window, and reports throughput, latency percentiles, errors by
// AWS error type, its own CPU and — read from the server's /metrics — the
// server's CPU per request. With a baseline it runs the identical client
// against an in-process bare net/http handler returning a body of the same
// size, so a run carries its own measure of what the machine can do.
//
// The client is deliberately lean, so that on a small machine its own cost
// does not hide the server's: a minimal HTTP/1.1 client (conn.go) and a
// SigV4 signer that derives the signing key once per day and allocates
// nothing per request (signer.go). It never uses the AWS SDK.
package loadgen
