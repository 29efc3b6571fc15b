package smapi_test

import (
	"encoding/json"
	"fmt"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
	"github.com/coffer-dev/coffer/internal/awsapi/smapi"
)

// How the HTTP edge uses the generated package for one request.
func Example() {
	body := []byte(`{"SecretId":"prod/db","VersionStage":""}`)

	op := smapi.Operations["GetSecretValue"] // from X-Amz-Target "secretsmanager.GetSecretValue"
	in := op.NewInput()
	if err := awsjson.Decode(body, in); err != nil {
		fmt.Println("SerializationException:", err) // *awsjson.SerializationError
		return
	}
	if err := in.Validate(); err != nil {
		fmt.Println("ValidationException:", err) // *awsjson.ValidationError
	}
	params, _ := json.Marshal(in.AuditParams())
	fmt.Println("requestParameters:", string(params), "readOnly:", op.ReadOnly)

	req := in.(*smapi.GetSecretValueInput)
	out := smapi.GetSecretValueOutput{Name: req.SecretId, VersionStages: []string{"AWSCURRENT"}}
	resp, _ := json.Marshal(out)
	fmt.Println(string(resp))
	// Output:
	// ValidationException: 1 validation error detected: Value '' at 'versionStage' failed to satisfy constraint: Member must have length greater than or equal to 1
	// requestParameters: {"secretId":"prod/db","versionStage":""} readOnly: true
	// {"Name":"prod/db","VersionStages":["AWSCURRENT"]}
}
