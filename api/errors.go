package api

import (
	"fmt"
	"slices"
	"strings"
)

// FieldError is one problem of a manifest, located by its field path
// (e.g. spec.simulation.runs, spec.build.command[1]).
type FieldError struct {
	// Path is the field's path in the manifest, JSON names joined by ".",
	// list indexes and map keys in brackets.
	Path string
	// Value is the offending value as written (may be empty).
	Value string
	// Detail says what is wrong; it reads after "Path: ".
	Detail string
}

// Error formats the problem as "path: detail".
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Detail
	}
	return e.Path + ": " + e.Detail
}

// ValidationError lists every problem Validate found in one campaign.
type ValidationError struct {
	// Source names where the campaign came from (a file name); may be empty.
	Source string
	// Name is the campaign's metadata.name (may be empty or invalid).
	Name   string
	Errors []FieldError
}

// Error gives a header line and one "path: detail" line per problem, the
// form the CLI prints and the API server turns into causes.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	if e.Name != "" {
		fmt.Fprintf(&b, "campaign %q is invalid:", e.Name)
	} else {
		b.WriteString("campaign is invalid:")
	}
	for _, fe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// DecodeError reports the problems of one YAML document that could not be
// decoded: syntax errors, unknown fields and values of the wrong type.
type DecodeError struct {
	// Source names the file (or request) the document came from.
	Source string
	// Document is the 1-based index of the document in its file, counting
	// only non-empty documents.
	Document int
	// Line is the document's first line in the file.
	Line   int
	Errors []FieldError
}

// Error gives one "source: document N: path: detail" line per problem.
func (e *DecodeError) Error() string {
	prefix := fmt.Sprintf("document %d: ", e.Document)
	if e.Source != "" {
		prefix = e.Source + ": " + prefix
	}
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = prefix + fe.Error()
	}
	return strings.Join(lines, "\n")
}

func sortStrings(s []string) { slices.Sort(s) }
