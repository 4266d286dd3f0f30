package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// model is the part of an AWS api-2.json model that the generator reads.
type model struct {
	Metadata   metadata              `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
}

type metadata struct {
	APIVersion   string `json:"apiVersion"`
	Protocol     string `json:"protocol"`
	ServiceID    string `json:"serviceId"`
	XMLNamespace string `json:"xmlNamespace"`
}

type operation struct {
	Name   string `json:"name"`
	Input  *ref   `json:"input"`
	Output *ref   `json:"output"`
}

// ref is a reference to a shape: an operation's input or output, a
// structure member, a list member, or a map key or value.
type ref struct {
	Shape         string `json:"shape"`
	LocationName  string `json:"locationName"`
	QueryName     string `json:"queryName"`
	ResultWrapper string `json:"resultWrapper"`
	Flattened     bool   `json:"flattened"`
}

type shape struct {
	Type      string   `json:"type"`
	Members   members  `json:"members"`
	Required  []string `json:"required"`
	Member    *ref     `json:"member"`
	Key       *ref     `json:"key"`
	Value     *ref     `json:"value"`
	Flattened bool     `json:"flattened"`
	Enum      []string `json:"enum"`
	Exception bool     `json:"exception"`
}

// member is one structure member, kept in model order so that generated
// structs and encoded responses follow the order AWS documents.
type member struct {
	Name string
	Ref  ref
}

type members []member

// UnmarshalJSON keeps the members object's key order, which a Go map would
// lose.
func (ms *members) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("members: want object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("members: want key, got %v", tok)
		}
		var r ref
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*ms = append(*ms, member{Name: name, Ref: r})
	}
	_, err = dec.Token()
	return err
}

func loadModel(path string) (*model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	switch m.Metadata.Protocol {
	case "ec2", "query":
	default:
		return nil, fmt.Errorf("%s: protocol %q is not a Query protocol", path, m.Metadata.Protocol)
	}
	for name, op := range m.Operations {
		if op.Name == "" {
			op.Name = name
		}
	}
	return &m, nil
}
