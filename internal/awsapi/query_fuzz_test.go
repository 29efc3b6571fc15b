package awsapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzQueryParams: query-protocol parameters (lists, tags, structures,
// paging) never panic the readers.
func FuzzQueryParams(f *testing.F) {
	f.Add("Action=CreateUser&Version=2010-05-08&UserName=bob&Tags.member.1.Key=a&Tags.member.1.Value=b&MaxItems=5&Marker=Mg")
	f.Add("ClientIDList.member.1=x&ClientIDList.member.3=y&PolicyArns.member.1.arn=arn&DurationSeconds=900&SetAsDefault=true")
	f.Add("Marker=%ZZ&MaxItems=-1&TagKeys=")
	f.Fuzz(func(t *testing.T, raw string) {
		v, aerr := parseQueryParams(raw)
		if aerr != nil {
			return
		}
		q := &qparams{v: v}
		q.str("UserName")
		q.req("RoleArn")
		q.integer("DurationSeconds")
		q.boolean("SetAsDefault")
		q.list("ClientIDList")
		q.list("TagKeys")
		q.tags("Tags")
		q.fieldList("PolicyArns", "arn")
		max, start := q.paging()
		page([]int{1, 2, 3}, max, start)
	})
}

// FuzzServeQuery sends arbitrary form bodies through the query edge (they
// fail authentication or validation, never panic).
func FuzzServeQuery(f *testing.F) {
	e := newTestEnv(f)
	f.Add("Action=GetCallerIdentity&Version=2011-06-15")
	f.Add("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::111122223333:role/r&RoleSessionName=s&WebIdentityToken=a.b.c")
	f.Add("Action=ListUsers&Version=2010-05-08&MaxItems=1000000000000")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, r)
		if w.Code == http.StatusOK && !strings.Contains(body, "AssumeRoleWithWebIdentity") {
			t.Fatalf("unsigned request succeeded: %s", body)
		}
		if w.Code >= 500 {
			t.Fatalf("server error %d for %q: %s", w.Code, body, w.Body)
		}
	})
}
