package explain

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the result for a person: the flow, one line per step
// walked with ✓ (passed), ✗ (stopped the flow) or ? (undecided), the
// targets under their steps, and the verdict.
func (r Result) WriteText(out io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "flow %s → %s\n", r.Source, r.Destination)
	width := 0
	for _, s := range r.Steps {
		width = max(width, len(s.Name))
	}
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "%s %-*s  %s\n", mark(s.Status), width, s.Name, s.Finding)
		for _, t := range s.Targets {
			b.WriteString("    " + targetLine(t) + "\n")
		}
	}
	switch {
	case r.Verdict == Delivered:
		fmt.Fprintf(&b, "verdict: delivered: %s\n", r.Summary)
	case r.DecidedBy != "":
		fmt.Fprintf(&b, "verdict: %s (at %s)\n", r.Verdict, r.DecidedBy)
	default:
		fmt.Fprintf(&b, "verdict: %s\n", r.Verdict)
	}
	_, err := io.WriteString(out, b.String())
	return err
}

func mark(s Status) string {
	switch s {
	case Pass:
		return "✓"
	case Fail:
		return "✗"
	}
	return "?"
}

func targetLine(t Target) string {
	m := "·"
	if t.Admits != nil {
		m = mark(Fail)
		if *t.Admits {
			m = mark(Pass)
		}
	}
	parts := []string{m, t.ID}
	if t.Address != "" {
		parts = append(parts, t.Address)
	}
	if t.Zone != "" {
		parts = append(parts, t.Zone)
	}
	parts = append(parts, t.Health)
	if t.Admits == nil && t.NewFlows && t.Note == "" {
		parts = append(parts, "(new flows)")
	}
	line := strings.Join(parts, " ")
	if t.Note != "" {
		line += ": " + t.Note
	}
	return line
}
