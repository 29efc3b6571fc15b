package awsapi

import (
	"net/http"
	"strings"
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

// serveQuery serves the query-protocol APIs. None is implemented yet.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, c *call) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusBadRequest)
	w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>The action or operation requested is invalid. Verify that the action is typed correctly.</Message></Error><RequestId>` + c.requestID + `</RequestId></ErrorResponse>`))
}
