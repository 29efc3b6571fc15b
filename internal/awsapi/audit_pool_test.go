package awsapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestAuditBodiesConcurrent: the edge renders each event into a pooled
// buffer that goes back to the pool when its request is over. Many
// requests at once, successes and failures (a failure stages its record in
// a unit of its own) must each leave exactly their own record, whole:
// one record per response's request id, every body valid JSON naming that
// request.
func TestAuditBodiesConcurrent(t *testing.T) {
	e := newTestEdge(t, true)
	e.ok(smTarget+"CreateSecret", `{"Name":"pool","SecretString":"v","ClientRequestToken":"`+newToken()+`"}`)
	before := len(e.records())

	const workers, each = 16, 25
	reqs := make([][]*http.Request, workers)
	for w := range reqs {
		for i := range each {
			body := `{"SecretId":"pool"}`
			if i%5 == 4 {
				body = `{"SecretId":"missing"}` // ResourceNotFoundException
			}
			reqs[w] = append(reqs[w], e.request(rootCreds, smTarget+"GetSecretValue", body))
		}
	}
	ids := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range reqs[w] {
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, r)
				ids <- rec.Header().Get("X-Amzn-Requestid")
			}
		}()
	}
	wg.Wait()
	close(ids)
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	recs := e.records()[before:]
	if len(recs) != workers*each || len(want) != workers*each {
		t.Fatalf("%d records, %d request ids; want %d of each", len(recs), len(want), workers*each)
	}
	for _, r := range recs {
		var ev struct {
			RequestID string `json:"requestID"`
			EventName string `json:"eventName"`
		}
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatalf("record %d: %v: %s", r.Seq, err, r.Body)
		}
		if !want[ev.RequestID] || ev.EventName != "GetSecretValue" {
			t.Fatalf("record %d: request %q (%s) is not one of the responses, or recorded twice", r.Seq, ev.RequestID, ev.EventName)
		}
		delete(want, ev.RequestID)
	}
}
