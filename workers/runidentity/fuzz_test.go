package runidentity

import (
	"bytes"
	"reflect"
	"testing"
)

// Whatever the program prints, the Scanner does not panic, and what it
// reads is what Format writes back.
func FuzzScan(f *testing.F) {
	f.Add([]byte(runconfigOut))
	f.Add([]byte("Run 0: $repetition=0\n\tk =\n\tk = = v\n"))
	f.Add([]byte("Number of runs: 1\n\t\n"))
	f.Add([]byte("Run 0:\x00\n\t\xff = \r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		runs, err := Parse(bytes.NewReader(data))
		if err != nil || len(runs) == 0 {
			return // nothing to write back: an empty listing has no banner
		}
		var buf bytes.Buffer
		if err := Format(&buf, runs); err != nil {
			t.Fatal(err)
		}
		again, err := Parse(&buf)
		if err != nil {
			t.Fatalf("Format's output does not parse: %v\n%q", err, buf.String())
		}
		if !reflect.DeepEqual(runs, again) {
			t.Fatalf("round trip changed the runs:\n%+v\n%+v", runs, again)
		}
		id := New(Inputs{ArtifactKey: "k"})
		for i := range runs {
			if id.Of(runs[i]) != id.Of(again[i]) {
				t.Fatal("identity changed in the round trip")
			}
		}
	})
}
