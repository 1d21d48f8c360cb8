package api

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	p := writeFile(t, "campaign.yaml", validDoc+"---\n"+strings.Replace(validDoc, "name: aloha", "name: beta", 1))
	cs, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Metadata.Name != "aloha" || cs[1].Metadata.Name != "beta" {
		t.Fatalf("campaigns = %v", cs)
	}
	// Defaulted.
	if cs[1].Spec.Simulation.IniFile != "omnetpp.ini" || len(cs[1].Spec.Results) != len(DefaultResults()) {
		t.Errorf("not defaulted: %+v", cs[1].Spec)
	}
}

func TestLoadFileErrorsNameTheFile(t *testing.T) {
	invalid := strings.Replace(validDoc, `runs: "0..9,20"`, `runs: "5..2"`, 1)
	tests := []struct {
		name, content string
		want          []string
	}{
		{"decode error", validDoc + "  paralelism: 3\n", []string{"campaign.yaml: document 1: spec.paralelism: unknown field"}},
		{"validation error", invalid, []string{`campaign.yaml: campaign "aloha" is invalid:`, `spec.simulation.runs: "5..2" is not a valid range`}},
		{"every invalid campaign", invalid + "---\n" + strings.Replace(invalid, "name: aloha", "name: B", 1), []string{
			`campaign.yaml: campaign "aloha" is invalid:`, `campaign.yaml: campaign "B" is invalid:`, `metadata.name: "B" is not a valid name`}},
		{"duplicate names", validDoc + "---\n" + validDoc, []string{`metadata.name: campaign "aloha" is defined twice in this file`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "campaign.yaml", tt.content)
			cs, err := LoadFile(p)
			if err == nil {
				t.Fatalf("no error, got %d campaigns", len(cs))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error does not name the file %s:\n%v", p, err)
			}
		})
	}
}

func TestLoadFileValidationErrorIsTyped(t *testing.T) {
	p := writeFile(t, "c.yaml", strings.Replace(validDoc, "timeout: 90s", "timeout: -5s", 1))
	_, err := LoadFile(p)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Source != p || ve.Errors[0].Path != "spec.timeout" {
		t.Fatalf("want *ValidationError for spec.timeout from %s, got %#v", p, err)
	}
}

// The size is checked with stat, before reading: a sparse 2 GiB file is
// refused at once.
func TestLoadFileRefusesLargeFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = LoadFile(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "more than the limit of 1048576") {
		t.Fatalf("large file: %v", err)
	}
}

func TestLoadFileMissingAndDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadFile(filepath.Join(dir, "nope.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}
