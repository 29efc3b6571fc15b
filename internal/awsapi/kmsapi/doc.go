// Package kmsapi owns the AWS KMS wire types: the request and response
// structs of every operation, their validation against the model's
// constraints, their CloudTrail request parameters, and the operation table.
// Everything in types_gen.go is generated from the botocore model
// (gen/models/kms-service-2.json) by internal/awsapi/gen.
//
// The HTTP edge decodes a body with awsjson.Decode into the value returned by
// Operations[name].NewInput(), calls Validate, reads the typed fields, and
// encodes the matching <Op>Output with encoding/json.
package kmsapi

//go:generate go run ../gen -model ../gen/models/kms-service-2.json -pkg kmsapi -out types_gen.go
