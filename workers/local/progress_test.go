package local

import (
	"strings"
	"testing"
)

func TestPlainProgressAnnouncesSkipsFailuresAndTheEnd(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, false, 4, 1)
	p.finished(1, nil, false)
	p.finished(1, &Failure{Runs: []int{2}, Attempts: 3, Reason: "exit status 1"}, false)
	p.finished(1, nil, true) // canceled: not counted
	p.finished(1, nil, false)
	p.stop()
	got := out.String()
	for _, want := range []string{"1 of 4 runs already complete, skipping them", "run 2 failed after 3 attempt(s): exit status 1", "4/4 runs (100%), 1 failed"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\r") || strings.Contains(got, "\033") {
		t.Errorf("plain progress has terminal control characters: %q", got)
	}
}

func TestTerminalProgressRedrawsABarWithETA(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, true, 4, 0)
	p.finished(1, nil, false)
	p.mu.Lock()
	line := p.line()
	p.mu.Unlock()
	p.finished(3, nil, false)
	p.stop()
	if !strings.Contains(line, "1/4 runs (25%)") || !strings.Contains(line, "ETA") {
		t.Fatalf("line %q lacks counts or ETA", line)
	}
	if got := out.String(); !strings.Contains(got, "\r\033[K[#######") || !strings.Contains(got, "[##############################] 4/4 runs (100%)") {
		t.Fatalf("bar not drawn: %q", got)
	}
}
