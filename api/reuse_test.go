package api

import (
	"strings"
	"testing"
)

// spec.reuse: absent means reuse, false opts out, and anything but a
// boolean is refused by name.
func TestReuseDecodes(t *testing.T) {
	for doc, want := range map[string]bool{validDoc: true, validDoc + "  reuse: false\n": false, validDoc + "  reuse: true\n": true} {
		cs, err := ParseManifests([]byte(doc), "campaign.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if got := cs[0].Spec.ReuseEnabled(); got != want {
			t.Errorf("%q: reuse %v, want %v", doc[len(doc)-16:], got, want)
		}
		SetDefaults(cs[0])
		if err := Validate(cs[0]); err != nil {
			t.Errorf("validate: %v", err)
		}
	}
	got := decodeErr(t, validDoc+"  reuse: maybe\n")
	if want := `campaign.yaml: document 1: spec.reuse: expected true or false, got string "maybe"`; !strings.Contains(got, want) {
		t.Fatalf("error %q, want %q", got, want)
	}
}
