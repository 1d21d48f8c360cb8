package local

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStampsSeeWhatChangesARun: a rebuilt program, a library appearing
// where opp_run looks, an edited ini are changes; an ini saved unchanged
// is none, and neither is anything for no stamps at all.
func TestStampsSeeWhatChangesARun(t *testing.T) {
	dir := t.TempDir()
	prog, lib, ini := filepath.Join(dir, "sim"), filepath.Join(dir, "libmodel.so"), filepath.Join(dir, "omnetpp.ini")
	write := func(p, body string) {
		t.Helper()
		tmp := p + ".tmp" // as a linker or an editor: a new file renamed over
		if err := os.WriteFile(tmp, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, p); err != nil {
			t.Fatal(err)
		}
	}
	write(prog, "v1")
	write(ini, "[General]\n")
	s := takeStamps([]string{prog, lib}, []string{ini})
	if c := s.Changed(); c != "" {
		t.Fatalf("nothing changed, but %s did", c)
	}
	later := time.Now().Add(time.Hour)
	write(ini, "[General]\n")
	if err := os.Chtimes(ini, later, later); err != nil {
		t.Fatal(err)
	}
	if c := s.Changed(); c != "" {
		t.Errorf("an ini saved unchanged counts as changed (%s)", c)
	}
	write(ini, "[General]\nsim-time-limit = 1s\n")
	if c := s.Changed(); c != ini {
		t.Errorf("an edited ini: Changed %q, want %q", c, ini)
	}

	s = takeStamps([]string{prog, lib}, []string{ini})
	write(lib, "library")
	if c := s.Changed(); c != lib {
		t.Errorf("a library appearing: Changed %q, want %q", c, lib)
	}
	s = takeStamps([]string{prog, lib}, []string{ini})
	write(prog, "v1") // relinked: the same bytes, a new file
	if c := s.Changed(); c != prog {
		t.Errorf("a rebuilt program: Changed %q, want %q", c, prog)
	}
	var none *Stamps
	if c := none.Changed(); c != "" {
		t.Errorf("nil stamps: %q", c)
	}
}
