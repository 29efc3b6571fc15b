package awsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/coffer-dev/coffer/internal/identity"
	"github.com/coffer-dev/coffer/internal/sigv4"
)

// Query-protocol services: their signing names and API versions.
const (
	svcIAM = "iam"
	svcSTS = "sts"

	versionIAM = "2010-05-08"
	versionSTS = "2011-06-15"

	// globalRegion is the region IAM (and the global STS endpoint) sign for.
	globalRegion = "us-east-1"
)

// isQueryRequest reports whether r uses the AWS query protocol (IAM, STS):
// a form-encoded POST without X-Amz-Target, or a GET with an Action
// parameter (presigned URLs).
func isQueryRequest(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return r.URL.Query().Get("Action") != ""
	}
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// queryOp is one IAM or STS operation.
type queryOp struct {
	operation
	// unsigned operations take no credentials (AssumeRoleWithWebIdentity).
	unsigned bool
	run      func(ctx context.Context, c *call, q *qparams) (any, error)
}

func (s *Server) registerQuery() {
	s.qops = map[string]*queryOp{}
	add := func(service, name string, readOnly, unsigned bool, run func(context.Context, *call, *qparams) (any, error)) {
		s.qops[service+"."+name] = &queryOp{operation: operation{service: service, name: name, readOnly: readOnly}, unsigned: unsigned, run: run}
	}
	for name, h := range s.iamHandlers() {
		add(svcIAM, name, strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List"), false, h)
	}
	add(svcSTS, "GetCallerIdentity", true, false, s.stsGetCallerIdentity)
	add(svcSTS, "AssumeRole", false, false, s.stsAssumeRole)
	add(svcSTS, "AssumeRoleWithWebIdentity", false, true, s.stsAssumeRoleWithWebIdentity)
}

// serveQuery serves one IAM or STS request.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, c *call) {
	out, action, aerr := s.handleQuery(c)
	if aerr != nil {
		s.writeQueryError(w, c, aerr)
	} else {
		s.writeQueryResult(w, c, action, out)
	}
	s.observe(c, aerr)
}

// handleQuery runs one query request to completion, like handleJSON.
func (s *Server) handleQuery(c *call) (any, string, *apiError) {
	r := c.r
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			s.bufs.Put(buf)
		}
	}()
	if r.Method == http.MethodPost {
		if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody+1)); err != nil {
			return nil, "", s.fail(c, queryValidation("Could not read the request body."))
		}
		if buf.Len() > maxBody {
			return nil, "", s.fail(c, &apiError{Type: "RequestEntityTooLarge", Message: "Request body exceeds the 1 MiB limit.", Status: http.StatusRequestEntityTooLarge})
		}
	}
	body := buf.Bytes()
	params, aerr := parseQueryParams(string(body))
	if aerr != nil {
		return nil, "", s.fail(c, aerr)
	}
	if r.URL.RawQuery != "" {
		qv, aerr := parseQueryParams(r.URL.RawQuery)
		if aerr != nil {
			return nil, "", s.fail(c, aerr)
		}
		for k, v := range qv {
			if _, ok := params[k]; !ok && !strings.HasPrefix(k, "X-Amz-") {
				params[k] = v
			}
		}
	}
	action, version := params.Get("Action"), params.Get("Version")
	switch version {
	case versionIAM:
		c.service = svcIAM
	case versionSTS:
		c.service = svcSTS
	default:
		c.service = svcSTS
		if s.qops[svcIAM+"."+action] != nil {
			c.service = svcIAM
		}
	}
	op := s.qops[c.service+"."+action]
	if op == nil || (version != versionIAM && version != versionSTS) {
		return nil, action, s.fail(c, &apiError{Type: "InvalidAction", Message: fmt.Sprintf("Could not find operation %s for version %s", truncate(action, 64), truncate(version, 32)), Status: http.StatusBadRequest})
	}
	c.op = &op.operation
	// As in handleJSON, the unit begins before authentication, so that the
	// caller's access key is read within it.
	ctx, unit := s.cfg.Units.Begin(r.Context())
	defer unit.Rollback()
	if !op.unsigned {
		caller, aerr := s.authenticateQuery(ctx, r, body, c.service)
		if aerr != nil {
			unit.Rollback()
			return nil, action, s.fail(c, aerr)
		}
		c.caller = caller
	}
	q := &qparams{v: params}
	c.input = q
	out, err := s.invokeQuery(ctx, c, op, q)
	if err == nil && q.err != nil {
		err = q.err
	}
	if err != nil {
		unit.Rollback()
		return nil, action, s.fail(c, queryAPIError(c.service, err))
	}
	if err := s.record(ctx, c, out, nil); err != nil {
		return nil, action, s.fail(c, queryAPIError(c.service, fmt.Errorf("audit: %w", err)))
	}
	if err := unit.Commit(); err != nil {
		return nil, action, s.fail(c, queryAPIError(c.service, fmt.Errorf("commit: %w", err)))
	}
	return out, action, nil
}

// invokeQuery runs a query operation, turning a panic into an internal
// error.
func (s *Server) invokeQuery(ctx context.Context, c *call, op *queryOp, q *qparams) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in %s: %v", op.name, p)
		}
	}()
	out, err = op.run(ctx, c, q)
	if q.err != nil {
		return nil, q.err
	}
	return out, err
}

// authenticateQuery verifies the SigV4 signature of a query request. IAM
// is signed for us-east-1 (its global endpoint); STS for the server's
// region or, from the global endpoint, us-east-1. Both are accepted.
func (s *Server) authenticateQuery(ctx context.Context, r *http.Request, body []byte, service string) (*identity.Caller, *apiError) {
	auth, err := sigv4.Parse(r)
	if err != nil {
		return nil, sigv4QueryError(err)
	}
	if err := auth.CheckTime(s.now()); err != nil {
		return nil, sigv4QueryError(err)
	}
	region := s.cfg.Region
	if auth.Region == globalRegion {
		region = globalRegion
	}
	if err := auth.CheckScope(region, service); err != nil {
		return nil, sigv4QueryError(err)
	}
	key, caller, err := s.cfg.Identity.SigningKeyWithToken(ctx, auth.AccessKeyID, auth.SecurityToken, auth.Date, auth.Region, auth.Service)
	if err != nil {
		return nil, queryAPIError(service, err)
	}
	if err := auth.Verify(r, body, key); err != nil {
		return nil, sigv4QueryError(err)
	}
	return caller, nil
}

// sigv4QueryError maps a sigv4 failure to the query protocol's errors.
func sigv4QueryError(err error) *apiError {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return &apiError{Type: "IncompleteSignature", Message: err.Error(), Status: http.StatusBadRequest}
	}
	switch se.Kind {
	case sigv4.KindMissing:
		return &apiError{Type: "MissingAuthenticationToken", Message: "Request is missing Authentication Token", Status: http.StatusForbidden}
	case sigv4.KindIncomplete:
		return &apiError{Type: "IncompleteSignature", Message: se.Message, Status: http.StatusBadRequest}
	default:
		return &apiError{Type: "SignatureDoesNotMatch", Message: se.Message, Status: http.StatusForbidden}
	}
}
