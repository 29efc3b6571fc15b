package awsjson

// Input is implemented by every generated <Op>Input type.
type Input interface {
	// Validate checks the model's constraints (required members, lengths,
	// ranges, enums, patterns) and returns a *ValidationError listing every
	// violation, or nil.
	Validate() error
	// AuditParams returns the request parameters as CloudTrail records
	// them: lower-camel-case names, sensitive members and blobs omitted;
	// nil when there are none.
	AuditParams() map[string]any
}

// Operation describes one operation of a service model.
type Operation struct {
	// Name is the operation name, as in X-Amz-Target "<prefix>.<Name>".
	Name string
	// NewInput returns a new, empty *<Name>Input to decode the body into.
	NewInput func() Input
	// InputShape and OutputShape are the model's shape names; OutputShape
	// is "" when the operation has no output (the response is {}).
	InputShape, OutputShape string
	// ReadOnly follows CloudTrail's readOnly flag: true for operations that
	// change no state (see the generator for the rule).
	ReadOnly bool
	// Errors lists the modeled error shape names, in model order.
	Errors []string
}
