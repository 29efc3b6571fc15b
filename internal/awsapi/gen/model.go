package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// model is the subset of a botocore service-2.json model the generator uses.
type model struct {
	Metadata   metadata              `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
}

type metadata struct {
	APIVersion     string `json:"apiVersion"`
	EndpointPrefix string `json:"endpointPrefix"`
	JSONVersion    string `json:"jsonVersion"`
	Protocol       string `json:"protocol"`
	SigningName    string `json:"signingName"`
	TargetPrefix   string `json:"targetPrefix"`
	ServiceID      string `json:"serviceId"`
}

type operation struct {
	Name   string `json:"name"`
	Input  *ref   `json:"input"`
	Output *ref   `json:"output"`
	Errors []ref  `json:"errors"`
}

// ref is a reference to a shape, with the member-level traits.
type ref struct {
	Shape     string `json:"shape"`
	Sensitive bool   `json:"sensitive"`
}

type shape struct {
	name      string
	Type      string       `json:"type"`
	Members   members      `json:"members"`
	Required  []string     `json:"required"`
	Member    *ref         `json:"member"`
	Key       *ref         `json:"key"`
	Value     *ref         `json:"value"`
	Min       *json.Number `json:"min"`
	Max       *json.Number `json:"max"`
	Pattern   *string      `json:"pattern"`
	Enum      []string     `json:"enum"`
	Sensitive bool         `json:"sensitive"`
	Exception bool         `json:"exception"`
}

func (s *shape) required(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// member is one structure member; members keeps the model's order, which
// drives field order and the order of validation messages.
type member struct {
	Name string
	ref
}

type members []member

func (ms *members) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("members: expected an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("members: %w", err)
		}
		name, _ := tok.(string)
		var r ref
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*ms = append(*ms, member{Name: name, ref: r})
	}
	return nil
}

func loadModel(data []byte) (*model, error) {
	var m model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse model: %w", err)
	}
	if m.Metadata.Protocol != "json" {
		return nil, fmt.Errorf("model protocol %q: only awsJson (json) is supported", m.Metadata.Protocol)
	}
	for name, s := range m.Shapes {
		s.name = name
	}
	check := func(where string, r *ref) error {
		if r != nil && m.Shapes[r.Shape] == nil {
			return fmt.Errorf("%s: unknown shape %q", where, r.Shape)
		}
		return nil
	}
	for name, op := range m.Operations {
		if op.Input == nil {
			return nil, fmt.Errorf("operation %s has no input", name)
		}
		if err := check(name, op.Input); err != nil {
			return nil, err
		}
		if err := check(name, op.Output); err != nil {
			return nil, err
		}
	}
	for name, s := range m.Shapes {
		for _, mem := range s.Members {
			if err := check(name+"."+mem.Name, &mem.ref); err != nil {
				return nil, err
			}
		}
		for _, r := range []*ref{s.Member, s.Key, s.Value} {
			if err := check(name, r); err != nil {
				return nil, err
			}
		}
	}
	return &m, nil
}
