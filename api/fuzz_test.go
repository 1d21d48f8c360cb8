package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzParseManifests feeds arbitrary bytes to the decoder. Whatever the
// input: no panic, bounded time, an error or campaigns (never both, never
// neither); defaulting is idempotent and validation does not panic; a
// valid campaign marshals to JSON that the strict decoder accepts again
// and that decodes to the same campaign. The seed corpus in
// testdata/fuzz/FuzzParseManifests (real manifests and hostile inputs: alias
// bombs, deep nesting, odd keys, NUL, invalid UTF-8) runs with every
// `go test`; `go test -fuzz FuzzParseManifests ./api` explores further.
func FuzzParseManifests(f *testing.F) {
	f.Add([]byte(validDoc))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		cs, err := ParseManifests(data, "fuzz.yaml")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("ParseManifests took %v on %d bytes", d, len(data))
		}
		if err != nil {
			if cs != nil || err.Error() == "" {
				t.Fatalf("error %q with %d campaigns", err, len(cs))
			}
			return
		}
		if len(cs) == 0 {
			t.Fatal("no campaigns and no error")
		}
		for _, c := range cs {
			SetDefaults(c)
			once, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("marshal decoded campaign: %v", err)
			}
			SetDefaults(c)
			twice, _ := json.Marshal(c)
			if !bytes.Equal(once, twice) {
				t.Fatalf("SetDefaults not idempotent:\n%s\n%s", once, twice)
			}
			if Validate(c) != nil {
				// Invalid campaigns are never stored, so they need not
				// survive JSON (omitempty drops an explicit empty list).
				continue
			}
			again, err := ParseManifests(once, "roundtrip.json")
			if err != nil {
				t.Fatalf("strict decoder refuses its own output %s: %v", once, err)
			}
			SetDefaults(again[0])
			if back, _ := json.Marshal(again[0]); !bytes.Equal(back, once) {
				t.Fatalf("round trip changed the campaign:\n%s\n%s", once, back)
			}
		}
	})
}
