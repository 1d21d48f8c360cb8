package peakrss

import (
	"os"
	"testing"
)

// TestRunMeasuresTheChildsOwnPeak: a child that touches 64 MiB reports a
// peak above it, and one that does not stays far below - the parent's own
// memory (it holds 96 MiB here) does not count.
func TestRunMeasuresTheChildsOwnPeak(t *testing.T) {
	if InChild() {
		if os.Getenv("PEAKRSS_TOUCH") != "" {
			b := make([]byte, 64<<20)
			for i := range b {
				b[i] = byte(i)
			}
			defer func() { _ = b[len(b)-1] }()
		}
		Report(t)
		return
	}
	held := make([]byte, 96<<20)
	for i := range held {
		held[i] = 1
	}
	big := Run(t, "PEAKRSS_TOUCH=1")
	small := Run(t)
	_ = held[len(held)-1]
	if big < 64<<20 {
		t.Errorf("a child that touched 64 MiB reported a peak of %d MiB", big>>20)
	}
	if small > 48<<20 {
		t.Errorf("an idle child reported a peak of %d MiB (the parent's 96 MiB counted?)", small>>20)
	}
	t.Logf("peaks: %d MiB touching 64 MiB, %d MiB idle", big>>20, small>>20)
}
