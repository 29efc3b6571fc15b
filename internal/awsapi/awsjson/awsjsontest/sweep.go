// Package awsjsontest holds test helpers shared by the tests of the
// generated wire packages (smapi, kmsapi). It reads the botocore model
// independently of the generator, so it checks the generated code against
// the model rather than against itself.
package awsjsontest

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer-dev/coffer/internal/awsapi/awsjson"
)

// Marker is embedded in every sensitive value and every blob the sweep
// sends; it must never appear in a validation message or audit parameters.
const Marker = "S3cr3tMark3r"

// markerBase64 is how Marker starts inside a base64 blob (len(Marker) is a
// multiple of 3, so the encoding of any blob starting with Marker starts
// with it).
var markerBase64 = base64.StdEncoding.EncodeToString([]byte(Marker))

type modelShape struct {
	Type      string                    `json:"type"`
	Members   map[string]modelMemberRef `json:"members"`
	Member    *modelMemberRef           `json:"member"`
	Key       *modelMemberRef           `json:"key"`
	Value     *modelMemberRef           `json:"value"`
	Max       *json.Number              `json:"max"`
	Enum      []string                  `json:"enum"`
	Sensitive bool                      `json:"sensitive"`
}

type modelMemberRef struct {
	Shape     string `json:"shape"`
	Sensitive bool   `json:"sensitive"`
}

type serviceModel struct {
	Operations map[string]struct {
		Input modelMemberRef `json:"input"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

// loadModel reads a botocore model for the sweep.
func loadModel(t testing.TB, path string) *serviceModel {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m serviceModel
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// Variants of the sweep: how sensitive strings are made invalid.
const (
	tooLong    = iota // longer than the shape's max (or very long)
	badPattern        // short, with characters no model pattern allows
)

type builder struct {
	m       *serviceModel
	variant int
}

// value builds a JSON value for a shape: every member set, sensitive strings
// (and all blobs) carrying Marker.
func (b *builder) value(ref modelMemberRef, sensitive bool, depth int) any {
	s := b.m.Shapes[ref.Shape]
	sensitive = sensitive || ref.Sensitive || s.Sensitive
	switch s.Type {
	case "string":
		if !sensitive {
			if len(s.Enum) > 0 {
				return s.Enum[0]
			}
			return "x"
		}
		if b.variant == badPattern {
			return Marker + "#\u0001 "
		}
		n := 70000
		if s.Max != nil {
			if m, err := strconv.Atoi(s.Max.String()); err == nil {
				n = m + 1
			}
		}
		return Marker + strings.Repeat("z", max(n-len(Marker), 1))
	case "blob":
		n := 70000
		if s.Max != nil {
			if m, err := strconv.Atoi(s.Max.String()); err == nil {
				n = m + 1
			}
		}
		return base64.StdEncoding.EncodeToString([]byte(Marker + strings.Repeat("z", max(n-len(Marker), 1))))
	case "integer", "long":
		return 1
	case "float", "double":
		return 1.5
	case "boolean":
		return true
	case "timestamp":
		return 1523923200
	case "list":
		return []any{b.value(*s.Member, sensitive, depth+1)}
	case "map":
		return map[string]any{"k": b.value(*s.Value, sensitive || s.Key.Sensitive, depth+1)}
	case "structure":
		obj := map[string]any{}
		if depth > 6 {
			return obj
		}
		for name, mem := range s.Members {
			obj[name] = b.value(mem, sensitive, depth+1)
		}
		return obj
	}
	return nil
}

// SensitiveSweep sends every operation of the model a body in which every
// member is set, sensitive members to invalid values carrying Marker, and
// checks that neither the validation error nor AuditParams contains Marker.
// It returns the operations whose validation reported a sensitive member
// ("Value at '…'"), sorted, so callers can assert the sweep reached them.
func SensitiveSweep(t *testing.T, modelPath string, ops map[string]awsjson.Operation) []string {
	t.Helper()
	m := loadModel(t, modelPath)
	if len(ops) != len(m.Operations) {
		t.Errorf("operation table has %d operations, model has %d", len(ops), len(m.Operations))
	}
	hit := map[string]bool{}
	leaks := func(s string) bool {
		return strings.Contains(s, Marker) || strings.Contains(s, markerBase64)
	}
	for _, variant := range []int{tooLong, badPattern} {
		b := &builder{m: m, variant: variant}
		for name, op := range m.Operations {
			body, err := json.Marshal(b.value(op.Input, false, 0))
			if err != nil {
				t.Fatal(err)
			}
			entry, ok := ops[name]
			if !ok {
				t.Errorf("operation %s missing from the table", name)
				continue
			}
			in := entry.NewInput()
			if err := awsjson.Decode(body, in); err != nil {
				t.Errorf("%s: Decode: %v", name, err)
				continue
			}
			if err := in.Validate(); err != nil {
				msg := err.Error()
				if leaks(msg) {
					t.Errorf("%s: validation message renders a sensitive value: %.300s", name, msg)
				}
				if strings.Contains(msg, "Value at '") {
					hit[name] = true
				}
			}
			audit, err := json.Marshal(in.AuditParams())
			if err != nil {
				t.Errorf("%s: marshal AuditParams: %v", name, err)
			}
			if leaks(string(audit)) {
				t.Errorf("%s: AuditParams contains a sensitive value or blob: %.300s", name, audit)
			}
		}
	}
	var names []string
	for n := range hit {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
