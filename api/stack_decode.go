package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"
)

// ParseStack decodes one Stack manifest (YAML or JSON) strictly, by the
// same walk as a Campaign: unknown fields and wrongly typed values are
// errors naming their path (a *DecodeError), durations follow Duration's
// rules, and an explicit port: 0 (which defaulting would silently turn
// into the default port) is refused. It neither defaults nor validates.
func ParseStack(data []byte, source string) (*Stack, error) {
	if len(data) > MaxStackBytes {
		return nil, fmt.Errorf("%s: stack manifest larger than %d bytes", source, MaxStackBytes)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if generic != nil {
		var w walker
		w.walk(reflect.TypeFor[Stack](), generic, "")
		for _, p := range []struct {
			path []string
			def  int
		}{{[]string{"spec", "controller", "port"}, DefaultControllerPort}, {[]string{"spec", "distcc", "port"}, DefaultDistccPort}} {
			if n, ok := lookup(generic, p.path...).(json.Number); ok && n.String() == "0" {
				w.add(strings.Join(p.path, "."), fmt.Sprintf("0 is not a port (leave the field out for the default, %d)", p.def), n)
			}
		}
		if len(w.errs) > 0 {
			return nil, &DecodeError{Source: source, Document: 1, Line: 1, Errors: w.errs}
		}
	}
	var s Stack
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		// The walk checks everything this does; a backstop.
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &s, nil
}

// lookup follows keys through nested mappings of a generic document.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// MaxStackBytes bounds a Stack manifest.
const MaxStackBytes = 1 << 20

// LoadStackFile reads, decodes, defaults and validates a Stack manifest.
func LoadStackFile(path string) (*Stack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read stack manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxStackBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read stack manifest %s: %w", path, err)
	}
	s, err := ParseStack(data, path)
	if err != nil {
		return nil, err
	}
	SetStackDefaults(s)
	if err := ValidateStack(s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
