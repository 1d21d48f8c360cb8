package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// ParseManifests decodes the Campaign manifests of one YAML (or JSON) file.
// Documents are separated by "---" lines; empty documents are skipped.
// Decoding is strict: an unknown or misspelled field, a duplicate key or a
// value of the wrong type is an error naming the source, the document and
// the field's full path, e.g.
//
//	campaign.yaml: document 2: spec.simulation.confg: unknown field (did you mean "config"?)
//
// apiVersion must be simswarm.io/v1alpha1 and kind Campaign. Inputs larger
// than MaxManifestBytes are refused before parsing. ParseManifests neither
// defaults nor validates (see SetDefaults, Validate). Errors are
// *DecodeError (joined, one per broken document) unless the input as a
// whole is refused.
func ParseManifests(data []byte, source string) ([]*Campaign, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("%s: manifest is %d bytes, more than the limit of %d", displaySource(source), len(data), MaxManifestBytes)
	}
	var out []*Campaign
	var errs []error
	for _, doc := range splitDocuments(data) {
		c, empty, err := decodeDocument(doc, source)
		switch {
		case err != nil:
			// Keep going: the user sees the problems of every document.
			errs = append(errs, err)
		case !empty:
			out = append(out, c)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no manifest found (the file holds only empty documents)", displaySource(source))
	}
	return out, nil
}

func displaySource(source string) string {
	if source == "" {
		return "manifest"
	}
	return source
}

// document is one YAML document of a file.
type document struct {
	data  []byte
	line  int // first line in the file, 1-based
	index int // 1-based among non-empty documents; set by decodeDocument's caller
}

// separatorRE matches a YAML document separator line: "---" alone or
// followed by whitespace or a comment. Content after "--- " on the same line
// (a rare style) is not supported, as in Kubernetes' splitter.
var separatorRE = regexp.MustCompile(`^---[ \t]*(#.*)?\r?$`)

// splitDocuments cuts data at separator lines and numbers the non-empty
// documents.
func splitDocuments(data []byte) []*document {
	var docs []*document
	cur := &document{line: 1}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if separatorRE.Match(bytes.TrimRight(line, "\n")) {
			docs = append(docs, cur)
			cur = &document{line: lineNo + 1}
			continue
		}
		cur.data = append(cur.data, line...)
	}
	docs = append(docs, cur)
	n := 0
	var out []*document
	for _, d := range docs {
		if isBlankYAML(d.data) {
			continue
		}
		n++
		d.index = n
		out = append(out, d)
	}
	return out
}

// isBlankYAML reports whether a document holds only blank lines, comments
// and directives' end markers.
func isBlankYAML(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("...")) {
			continue
		}
		return false
	}
	return true
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// decodeDocument decodes one document. empty is true for a document that
// holds only null.
func decodeDocument(doc *document, source string) (c *Campaign, empty bool, err error) {
	fail := func(path, detail string) error {
		return &DecodeError{Source: source, Document: doc.index, Line: doc.line,
			Errors: []FieldError{{Path: path, Detail: detail}}}
	}
	yamlErr := func(err error) error {
		// Make the YAML library's document-relative line numbers absolute.
		msg := yamlLineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
			return "line " + strconv.Itoa(n+doc.line-1)
		})
		return fail("", "invalid YAML: "+strings.Join(strings.Fields(msg), " "))
	}
	// First decode into plain values, to measure what aliases expand to
	// before anything is copied: the YAML library bounds the number of
	// alias expansions, but an alias of a long string costs nothing there
	// and a lot once converted to JSON.
	var raw any
	if err := yamlv2.UnmarshalStrict(doc.data, &raw); err != nil {
		return nil, false, yamlErr(err)
	}
	if raw == nil {
		return nil, true, nil
	}
	if expandedSize(raw, maxExpandedBytes) > maxExpandedBytes {
		return nil, false, fail("", fmt.Sprintf("document expands to more than %d bytes of data (YAML aliases?)", maxExpandedBytes))
	}
	js, err := yaml.YAMLToJSON(doc.data)
	if err != nil {
		return nil, false, yamlErr(err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, false, fail("", "invalid document: "+err.Error())
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, false, fail("", "a manifest must be a mapping with apiVersion, kind, metadata and spec, not "+describe(generic))
	}
	if err := checkTypeMeta(obj); err != "" {
		return nil, false, fail(err, typeMetaDetail(obj, err))
	}
	var w walker
	w.walk(campaignType, generic, "")
	if len(w.errs) > 0 {
		return nil, false, &DecodeError{Source: source, Document: doc.index, Line: doc.line, Errors: w.errs}
	}
	c = new(Campaign)
	if err := json.Unmarshal(js, c); err != nil {
		// The walk checks everything json.Unmarshal does; this is a backstop.
		return nil, false, fail("", err.Error())
	}
	return c, false, nil
}

// checkTypeMeta returns the path of a wrong apiVersion or kind, or "".
func checkTypeMeta(obj map[string]any) string {
	if v, _ := obj["apiVersion"].(string); v != APIVersion {
		return "apiVersion"
	}
	if k, _ := obj["kind"].(string); k != KindCampaign {
		return "kind"
	}
	return ""
}

func typeMetaDetail(obj map[string]any, path string) string {
	v, present := obj[path]
	want := APIVersion
	if path == "kind" {
		want = KindCampaign
	}
	if !present {
		return fmt.Sprintf("missing; a Campaign manifest starts with apiVersion: %s and kind: %s", APIVersion, KindCampaign)
	}
	return fmt.Sprintf("must be %q, not %s", want, describe(v))
}

// maxExpandedBytes bounds a document's size after alias expansion.
const maxExpandedBytes = 4 * MaxManifestBytes

// expandedSize estimates the JSON size of a decoded YAML value, stopping
// as soon as it exceeds limit (so it visits at most about limit nodes).
func expandedSize(v any, limit int) int {
	size := 0
	var walk func(v any)
	walk = func(v any) {
		if size > limit {
			return
		}
		switch x := v.(type) {
		case string:
			size += len(x) + 3
		case map[any]any:
			size += 2
			for k, e := range x {
				walk(k)
				walk(e)
			}
		case []any:
			size += 2
			for _, e := range x {
				walk(e)
			}
		default:
			size += 8
		}
	}
	walk(v)
	return size
}
