package api

import (
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"
)

// ParseStack decodes one Stack manifest (YAML or JSON) strictly: unknown
// fields are errors. It neither defaults nor validates.
func ParseStack(data []byte, source string) (*Stack, error) {
	if len(data) > MaxStackBytes {
		return nil, fmt.Errorf("%s: stack manifest larger than %d bytes", source, MaxStackBytes)
	}
	var s Stack
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &s, nil
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
