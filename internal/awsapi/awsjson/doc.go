// Package awsjson owns the awsJson1_1 wire conventions shared by the
// generated Secrets Manager (smapi) and KMS (kmsapi) packages:
//
//   - Time, the timestamp type (epoch seconds as a JSON number);
//   - Decode and DecodeError, which decode a request body and turn
//     encoding/json failures into SerializationException messages that never
//     echo the submitted value;
//   - Rule, Validator and ValidationError, the runtime of the generated
//     Validate methods, rendering AWS's framework validation text
//     ("1 validation error detected: Value '…' at '…' failed to satisfy
//     constraint: …");
//   - Params, the builder of CloudTrail-style request parameters used by the
//     generated AuditParams methods;
//   - Operation and Input, the shape of the generated operation tables.
//
// It imports only the standard library.
package awsjson
