package awsapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// step is one request of the golden scenario.
type step struct {
	name string
	op   string // Secrets Manager operation ("" with target set)
	// target overrides the X-Amz-Target header ("-" sends none).
	target string
	body   string
	// unsigned sends the request without a signature; method overrides POST.
	unsigned bool
	method   string
	// sensitive values must appear neither in the response nor in the log.
	sensitive []string
	// before runs before the request (e.g. to move the clock).
	before func(e *edge)
}

const (
	t1 = "11111111-1111-4111-8111-111111111111"
	t2 = "22222222-2222-4222-8222-222222222222"
	t3 = "33333333-3333-4333-8333-333333333333"
	t4 = "44444444-4444-4444-8444-444444444444"
)

// goldenSteps is the scenario: every operation's success shapes and the
// edge's errors, in order (later steps see the state earlier ones made).
// {{arn:NAME}} in a body stands for the ARN CreateSecret returned for NAME.
var goldenSteps = []step{
	// CreateSecret
	{name: "create-string", op: "CreateSecret", body: `{"Name":"golden/string","ClientRequestToken":"` + t1 + `","Description":"a string secret","SecretString":"{\"password\":\"hunter2-golden\"}","Tags":[{"Key":"team","Value":"blue"},{"Key":"env","Value":""}]}`,
		sensitive: []string{"hunter2-golden"}},
	{name: "create-binary", op: "CreateSecret", body: `{"Name":"golden/binary","ClientRequestToken":"` + t1 + `","SecretBinary":"AAEC/w=="}`},
	{name: "create-no-value", op: "CreateSecret", body: `{"Name":"golden/empty","Description":""}`},
	{name: "create-retry-same-token-same-value", op: "CreateSecret", body: `{"Name":"golden/binary","ClientRequestToken":"` + t1 + `","SecretBinary":"AAEC/w=="}`},
	{name: "create-retry-same-token-other-value", op: "CreateSecret", body: `{"Name":"golden/binary","ClientRequestToken":"` + t1 + `","SecretBinary":"AAED/w=="}`},
	{name: "create-exists", op: "CreateSecret", body: `{"Name":"golden/string","ClientRequestToken":"` + t2 + `","SecretString":"other"}`},
	{name: "create-no-token", op: "CreateSecret", body: `{"Name":"golden/notoken","SecretString":"s3cr3t-no-token","Description":"d"}`,
		sensitive: []string{"s3cr3t-no-token"}},
	{name: "create-both-values", op: "CreateSecret", body: `{"Name":"golden/both","ClientRequestToken":"` + t1 + `","SecretString":"both-string-value","SecretBinary":"AAEC"}`,
		sensitive: []string{"both-string-value"}},
	{name: "create-invalid-name", op: "CreateSecret", body: `{"Name":"Inv Name","ClientRequestToken":"` + t1 + `","SecretString":"x"}`},
	{name: "create-name-too-long", op: "CreateSecret", body: `{"Name":"` + strings.Repeat("n", 513) + `"}`},
	{name: "create-missing-name", op: "CreateSecret", body: `{"SecretString":"missing-name-value"}`, sensitive: []string{"missing-name-value"}},
	{name: "create-token-too-short", op: "CreateSecret", body: `{"Name":"golden/t","ClientRequestToken":"short","SecretString":"x"}`},
	{name: "create-secret-too-long", op: "CreateSecret", body: `{"Name":"golden/long","ClientRequestToken":"` + t1 + `","SecretString":"` + strings.Repeat("L", 65537) + `"}`,
		sensitive: []string{strings.Repeat("L", 100)}},
	{name: "create-binary-empty", op: "CreateSecret", body: `{"Name":"golden/b0","ClientRequestToken":"` + t1 + `","SecretBinary":""}`},
	{name: "create-reserved-tag", op: "CreateSecret", body: `{"Name":"golden/tag","Tags":[{"Key":"aws:x","Value":"1"}]}`},
	{name: "create-replica", op: "CreateSecret", body: `{"Name":"golden/replica","AddReplicaRegions":[{"Region":"eu-west-1"}]}`},

	// GetSecretValue
	{name: "get-string", op: "GetSecretValue", body: `{"SecretId":"golden/string"}`},
	{name: "get-binary-by-arn", op: "GetSecretValue", body: `{"SecretId":"{{arn:golden/binary}}"}`},
	{name: "get-by-partial-arn", op: "GetSecretValue", body: `{"SecretId":"{{partial:golden/binary}}","VersionStage":"AWSCURRENT"}`},
	{name: "get-empty", op: "GetSecretValue", body: `{"SecretId":"golden/empty"}`},
	{name: "get-unknown", op: "GetSecretValue", body: `{"SecretId":"golden/nope"}`},
	{name: "get-unknown-version", op: "GetSecretValue", body: `{"SecretId":"golden/string","VersionId":"` + t4 + `"}`},
	{name: "get-unknown-stage", op: "GetSecretValue", body: `{"SecretId":"golden/string","VersionStage":"AWSPENDING"}`},
	{name: "get-stage-mismatch", op: "GetSecretValue", body: `{"SecretId":"golden/string","VersionId":"` + t1 + `","VersionStage":"AWSPREVIOUS"}`},
	{name: "get-invalid-name", op: "GetSecretValue", body: `{"SecretId":" Inv*Name? "}`},
	{name: "get-missing-secret-id", op: "GetSecretValue", body: `{"VersionStage":"AWSCURRENT"}`},
	{name: "get-empty-body", op: "GetSecretValue", body: ``},

	// PutSecretValue
	{name: "put", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t2 + `","SecretString":"second-value"}`,
		before: func(e *edge) { e.clock.Advance(time.Hour) }},
	{name: "put-retry", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t2 + `","SecretString":"second-value"}`},
	{name: "put-stages", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t3 + `","SecretBinary":"cGVuZGluZw==","VersionStages":["AWSPENDING","custom"]}`},
	{name: "put-no-token", op: "PutSecretValue", body: `{"SecretId":"golden/string","SecretString":"put-no-token-value"}`, sensitive: []string{"put-no-token-value"}},
	{name: "put-no-value", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t4 + `"}`},
	{name: "put-token-reused", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t2 + `","SecretString":"different-value"}`,
		sensitive: []string{"different-value"}},
	{name: "put-first-version", op: "PutSecretValue", body: `{"SecretId":"golden/empty","ClientRequestToken":"` + t1 + `","SecretString":"first"}`},
	{name: "put-too-many-stages", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t4 + `","SecretString":"x","VersionStages":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21"]}`},

	// UpdateSecret
	{name: "update-description", op: "UpdateSecret", body: `{"SecretId":"golden/binary","Description":"now described"}`},
	{name: "update-nothing", op: "UpdateSecret", body: `{"SecretId":"golden/binary"}`},
	{name: "update-value", op: "UpdateSecret", body: `{"SecretId":"golden/binary","ClientRequestToken":"` + t2 + `","SecretString":"updated-value"}`},
	{name: "update-no-token", op: "UpdateSecret", body: `{"SecretId":"golden/binary","SecretString":"update-no-token","Description":"d"}`, sensitive: []string{"update-no-token"}},
	{name: "update-unknown", op: "UpdateSecret", body: `{"SecretId":"golden/nope","Description":"x"}`},

	// UpdateSecretVersionStage
	{name: "stage-move-current", op: "UpdateSecretVersionStage", body: `{"SecretId":"golden/string","VersionStage":"AWSCURRENT","MoveToVersionId":"` + t3 + `","RemoveFromVersionId":"` + t2 + `"}`},
	{name: "stage-no-remove-from", op: "UpdateSecretVersionStage", body: `{"SecretId":"golden/string","VersionStage":"AWSCURRENT","MoveToVersionId":"` + t2 + `"}`},
	{name: "stage-remove", op: "UpdateSecretVersionStage", body: `{"SecretId":"golden/string","VersionStage":"custom","RemoveFromVersionId":"` + t3 + `"}`},
	{name: "stage-missing-stage", op: "UpdateSecretVersionStage", body: `{"SecretId":"golden/string"}`},

	// DescribeSecret, ListSecretVersionIds, ListSecrets (after a read on a later day)
	{name: "describe", op: "DescribeSecret", body: `{"SecretId":"golden/string"}`,
		before: func(e *edge) { e.clock.Advance(24 * time.Hour) }},
	{name: "describe-empty-fields", op: "DescribeSecret", body: `{"SecretId":"{{arn:golden/binary}}"}`},
	{name: "get-records-access", op: "GetSecretValue", body: `{"SecretId":"golden/string","VersionStage":"AWSPREVIOUS"}`},
	{name: "describe-after-read", op: "DescribeSecret", body: `{"SecretId":"golden/string"}`},
	{name: "versions", op: "ListSecretVersionIds", body: `{"SecretId":"golden/string"}`},
	{name: "versions-deprecated", op: "ListSecretVersionIds", body: `{"SecretId":"golden/string","IncludeDeprecated":true}`},
	{name: "versions-page", op: "ListSecretVersionIds", body: `{"SecretId":"golden/string","MaxResults":1}`},
	{name: "versions-max-out-of-range", op: "ListSecretVersionIds", body: `{"SecretId":"golden/string","MaxResults":101}`},
	{name: "list", op: "ListSecrets", body: `{}`},
	{name: "list-filtered-sorted", op: "ListSecrets", body: `{"Filters":[{"Key":"name","Values":["golden/"]},{"Key":"tag-key","Values":["!team"]}],"SortBy":"name","SortOrder":"desc","MaxResults":1}`},
	{name: "list-bad-filter-key", op: "ListSecrets", body: `{"Filters":[{"Key":"invalid","Values":["x"]}]}`},
	{name: "list-bad-token", op: "ListSecrets", body: `{"NextToken":"bm90IGEgdG9rZW4"}`},
	{name: "list-null-body", op: "ListSecrets", body: `null`},

	// Tags
	{name: "tag", op: "TagResource", body: `{"SecretId":"golden/binary","Tags":[{"Key":"k1","Value":"v1"},{"Key":"k2","Value":"v2"}]}`},
	{name: "untag-all", op: "UntagResource", body: `{"SecretId":"golden/binary","TagKeys":["k1","k2","missing"]}`},
	{name: "describe-untagged", op: "DescribeSecret", body: `{"SecretId":"golden/binary"}`},
	{name: "tag-missing-tags", op: "TagResource", body: `{"SecretId":"golden/binary"}`},

	// BatchGetSecretValue, GetRandomPassword
	{name: "batch-ids", op: "BatchGetSecretValue", body: `{"SecretIdList":["golden/string","golden/binary","golden/nope","golden/empty"]}`},
	{name: "batch-filters", op: "BatchGetSecretValue", body: `{"Filters":[{"Key":"name","Values":["golden/b"]}],"MaxResults":20}`},
	{name: "batch-both", op: "BatchGetSecretValue", body: `{"SecretIdList":["golden/string"],"Filters":[{"Key":"name","Values":["golden/"]}]}`},
	{name: "password", op: "GetRandomPassword", body: `{}`},
	{name: "password-options", op: "GetRandomPassword", body: `{"PasswordLength":12,"ExcludePunctuation":true,"IncludeSpace":true}`},
	{name: "password-too-long", op: "GetRandomPassword", body: `{"PasswordLength":4097}`},
	{name: "password-too-short", op: "GetRandomPassword", body: `{"PasswordLength":2}`},

	// DeleteSecret / RestoreSecret
	{name: "delete", op: "DeleteSecret", body: `{"SecretId":"golden/binary","RecoveryWindowInDays":7}`},
	{name: "delete-again", op: "DeleteSecret", body: `{"SecretId":"golden/binary"}`},
	{name: "get-deleted", op: "GetSecretValue", body: `{"SecretId":"golden/binary"}`},
	{name: "tag-deleted", op: "TagResource", body: `{"SecretId":"golden/binary","Tags":[{"Key":"k","Value":"v"}]}`},
	{name: "describe-deleted", op: "DescribeSecret", body: `{"SecretId":"golden/binary"}`},
	{name: "create-deleted-name", op: "CreateSecret", body: `{"Name":"golden/binary"}`},
	{name: "list-planned-deletion", op: "ListSecrets", body: `{"IncludePlannedDeletion":true,"Filters":[{"Key":"name","Values":["golden/binary"]}]}`},
	{name: "restore", op: "RestoreSecret", body: `{"SecretId":"golden/binary"}`},
	{name: "delete-window-out-of-range", op: "DeleteSecret", body: `{"SecretId":"golden/binary","RecoveryWindowInDays":6}`},
	{name: "delete-window-and-force", op: "DeleteSecret", body: `{"SecretId":"golden/binary","RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":true}`},
	{name: "delete-force", op: "DeleteSecret", body: `{"SecretId":"golden/binary","ForceDeleteWithoutRecovery":true}`},
	{name: "delete-force-missing", op: "DeleteSecret", body: `{"SecretId":"golden/never","ForceDeleteWithoutRecovery":true}`},
	{name: "delete-missing", op: "DeleteSecret", body: `{"SecretId":"golden/never"}`},

	// The protocol's own errors.
	{name: "unsupported-operation", op: "RotateSecret", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t4 + `"}`},
	{name: "unknown-target", target: "secretsmanager.NoSuchOperation", body: `{}`},
	{name: "unknown-service", target: "Nonsense_20250101.Op", body: `{}`},
	{name: "no-target", target: "-", body: `{}`},
	{name: "get-method", op: "ListSecrets", method: http.MethodGet},
	{name: "malformed-json", op: "GetSecretValue", body: `{"SecretId":"golden/string"`},
	{name: "malformed-json-trailing", op: "GetSecretValue", body: `{"SecretId":"golden/string"} {}`},
	{name: "not-an-object", op: "GetSecretValue", body: `["golden/string"]`},
	{name: "wrong-type-string", op: "GetSecretValue", body: `{"SecretId":42}`},
	{name: "wrong-type-secret-string", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t4 + `","SecretString":{"password":"wrong-type-secret"}}`,
		sensitive: []string{"wrong-type-secret"}},
	{name: "wrong-type-bool", op: "ListSecrets", body: `{"IncludePlannedDeletion":"yes"}`},
	{name: "wrong-type-integer", op: "ListSecrets", body: `{"MaxResults":1.5}`},
	{name: "bad-base64", op: "PutSecretValue", body: `{"SecretId":"golden/string","ClientRequestToken":"` + t4 + `","SecretBinary":"not base64!"}`},
	{name: "unsigned", op: "ListSecrets", body: `{}`, unsigned: true},
}

var (
	arnRE      = regexp.MustCompile(`(arn:aws:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]*-)[A-Za-z0-9]{6}\b`)
	passwordRE = regexp.MustCompile(`"RandomPassword":"((?:[^"\\]|\\.)*)"`)
)

// normalise replaces what differs from run to run: ARN suffixes and
// generated passwords (their length is kept).
func normalise(b []byte) []byte {
	b = arnRE.ReplaceAll(b, []byte("${1}XXXXXX"))
	return passwordRE.ReplaceAllFunc(b, func(m []byte) []byte {
		var pw string
		json.Unmarshal(append(append([]byte{'"'}, passwordRE.FindSubmatch(m)[1]...), '"'), &pw)
		return []byte(fmt.Sprintf(`"RandomPassword":"<%d characters>"`, len([]rune(pw))))
	})
}

// render prints one exchange as the golden file shows it.
func render(s step, req *http.Request, reqBody string, r *response) []byte {
	var b bytes.Buffer
	method := req.Method
	fmt.Fprintf(&b, "%s / HTTP/1.1\n", method)
	if tg := req.Header.Get("X-Amz-Target"); tg != "" {
		fmt.Fprintf(&b, "X-Amz-Target: %s\n", tg)
	}
	if s.unsigned {
		b.WriteString("(unsigned)\n")
	}
	shown := reqBody
	if len(shown) > 400 {
		shown = fmt.Sprintf("%s… (%d bytes)", shown[:200], len(reqBody))
	}
	fmt.Fprintf(&b, "\n%s\n\n", normalise([]byte(shown)))
	fmt.Fprintf(&b, "HTTP %d\n", r.Status)
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := strings.Join(r.Header[k], ", ")
		switch k {
		case "Date":
			v = "<date>"
		case "X-Amzn-Requestid":
			v = "<request id>"
		case "Content-Length":
			continue // the body below shows it
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	fmt.Fprintf(&b, "\n%s\n", normalise(r.Body))
	return b.Bytes()
}

// TestGolden runs the scenario and compares every exchange with its golden
// file under testdata/golden/ (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	e := newEdge(t)
	arns := map[string]string{}
	seen := map[string]bool{}
	for i, s := range goldenSteps {
		if seen[s.name] {
			t.Fatalf("duplicate step name %s", s.name)
		}
		seen[s.name] = true
		file := filepath.Join("testdata", "golden", fmt.Sprintf("%03d-%s.txt", i+1, s.name))
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before(e)
			}
			body := expandARNs(t, s.body, arns)
			target := "secretsmanager." + s.op
			if s.target == "-" {
				target = ""
			} else if s.target != "" {
				target = s.target
			}
			req := e.request(target, []byte(body))
			if s.method != "" {
				req.Method = s.method
			}
			if !s.unsigned {
				e.sign(t, req, []byte(body))
			}
			r := e.do(t, req)
			if s.op == "CreateSecret" && r.Status == http.StatusOK {
				var out struct{ ARN, Name string }
				if err := json.Unmarshal(r.Body, &out); err != nil {
					t.Fatal(err)
				}
				arns[out.Name] = out.ARN
			}
			for _, v := range s.sensitive {
				if bytes.Contains(r.Body, []byte(v)) {
					t.Errorf("response echoes a secret value: %s", r.Body)
				}
				if strings.Contains(e.logs.String(), v) {
					t.Errorf("log contains a secret value")
				}
			}
			got := render(s, req, body, r)
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", file, got, want)
			}
		})
	}
	if !*update {
		// No stale golden files.
		files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
		if len(files) != len(goldenSteps) {
			t.Errorf("%d golden files for %d steps; run with -update and delete the stale ones", len(files), len(goldenSteps))
		}
	}
}

var placeholderRE = regexp.MustCompile(`\{\{(arn|partial):([^}]+)\}\}`)

func expandARNs(t *testing.T, body string, arns map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(body, func(m string) string {
		p := placeholderRE.FindStringSubmatch(m)
		arn, ok := arns[p[2]]
		if !ok {
			t.Fatalf("no ARN recorded for %s", p[2])
		}
		if p[1] == "partial" {
			return arn[:len(arn)-7]
		}
		return arn
	})
}
