package local

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a progress writer read while another goroutine writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestExecuteWaitsForTheResultsDirectorysHolder: while another Execute
// holds a results directory, a second waits, says who holds it, and once
// the first is done finds its runs complete: nothing is simulated twice.
func TestExecuteWaitsForTheResultsDirectorysHolder(t *testing.T) {
	p := testPlan(t, []int{0, 1, 2})
	results := filepath.Join(t.TempDir(), "results")
	if sum := execute(t, context.Background(), p, Options{ResultsDir: results, Jobs: 2}); sum.Succeeded != 3 {
		t.Fatalf("first sweep: %+v", sum)
	}
	// A holder from outside (another process, as far as flock goes: its
	// own open file description).
	unlock, err := lockResults(context.Background(), results, nil)
	if err != nil {
		t.Fatal(err)
	}
	var progress lockedBuffer
	done := make(chan *Summary, 1)
	go func() {
		sum, err := Execute(context.Background(), p, Options{ResultsDir: results, Jobs: 2, Progress: &progress})
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	select {
	case sum := <-done:
		t.Fatalf("Execute did not wait for the directory's holder: %+v", sum)
	case <-time.After(500 * time.Millisecond):
	}
	want := fmt.Sprintf("%s is in use by another simswarm (pid %d): waiting for it to finish", results, os.Getpid())
	if !strings.Contains(progress.String(), want) {
		t.Errorf("progress %q, want it to say %q", progress.String(), want)
	}
	unlock()
	select {
	case sum := <-done:
		if sum.Skipped != 3 || sum.Succeeded != 0 {
			t.Errorf("after the holder let go: %+v, want all 3 runs skipped", sum)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Execute still waiting after the holder let go")
	}
}

// TestExecuteInterruptedWhileWaitingForTheResultsDirectory: Ctrl-C while
// waiting ends Execute as interrupted, with nothing run or recorded.
func TestExecuteInterruptedWhileWaitingForTheResultsDirectory(t *testing.T) {
	p := testPlan(t, []int{0, 1})
	results := filepath.Join(t.TempDir(), "results")
	unlock, err := lockResults(context.Background(), results, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sum := execute(t, ctx, p, Options{ResultsDir: results, Jobs: 2})
	if !sum.Interrupted || sum.Succeeded != 0 || sum.Failed != 0 || sum.Total != 2 {
		t.Errorf("summary %+v, want 2 runs interrupted before any ran", sum)
	}
	if hasRecord(t, results, 0) || len(listResults(t, results)) != 0 {
		t.Errorf("something was run while waiting: %v", listResults(t, results))
	}
}
