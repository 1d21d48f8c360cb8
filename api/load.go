package api

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// LoadFile reads a manifest file and returns its campaigns parsed,
// defaulted and validated. The size is checked before reading (and the read
// is capped, should the file grow meanwhile). Every error names the file;
// when several campaigns are invalid the error joins one
// *ValidationError per campaign (errors.As finds the first).
func LoadFile(path string) ([]*Campaign, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("read manifest %s: is a directory", path)
	}
	if st.Size() > MaxManifestBytes {
		return nil, fmt.Errorf("read manifest %s: file is %d bytes, more than the limit of %d", path, st.Size(), MaxManifestBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return Load(data, path)
}

// Load parses, defaults and validates the campaigns of data (named source
// in errors). Two campaigns of the same name in one file are an error.
func Load(data []byte, source string) ([]*Campaign, error) {
	cs, err := ParseManifests(data, source)
	if err != nil {
		return nil, err
	}
	var errs []error
	seen := map[string]bool{}
	for _, c := range cs {
		SetDefaults(c)
		err := Validate(c)
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.Source = source
		}
		if n := c.Metadata.Name; n != "" && seen[n] {
			if ve == nil {
				ve = &ValidationError{Source: source, Name: n}
				err = ve
			}
			ve.Errors = append(ve.Errors, FieldError{Path: "metadata.name", Value: n,
				Detail: fmt.Sprintf("campaign %q is defined twice in this file", n)})
		}
		seen[c.Metadata.Name] = true
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return slices.Clip(cs), nil
}
