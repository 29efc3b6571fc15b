package awsapi

import (
	"context"

	"github.com/coffer-dev/coffer/internal/secrets"
)

// authorize decides whether the caller may perform action on resource
// (an ARN, or "*" for actions without a resource), before any work is done.
// Until IAM policies land, the account root may do everything and every
// other principal nothing (unknown means deny).
func (s *Server) authorize(ctx context.Context, c *call, action, resource string, sec *secrets.Secret) error {
	c.noteResource(resource) // for the audit event
	if c.caller != nil && c.caller.IsRoot() {
		return nil
	}
	arn := "anonymous"
	if c.caller != nil {
		arn = c.caller.ARN
	}
	return clientErr("AccessDeniedException", "User: "+arn+" is not authorized to perform: "+action+" on resource: "+resource+" because no identity-based policy allows the "+action+" action")
}
