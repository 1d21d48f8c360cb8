package manifests

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestStartAppliesToItsStoreAndNotifies runs a Dir as the manager runs its
// runnables: Start with the Store and Notify it was given.
func TestStartAppliesToItsStoreAndNotifies(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	write(t, dir, "a.json", "a", 0)
	var mu sync.Mutex
	var notified []string
	d := &Dir{Path: dir, Load: loadJSON, Store: st, Notify: func(n string) {
		mu.Lock()
		defer mu.Unlock()
		notified = append(notified, n)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Start(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := st.Get(context.Background(), "a")
		mu.Lock()
		told := slices.Contains(notified, "a")
		mu.Unlock()
		if err == nil && told {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a not applied to the Store (%v) or not notified (%v)", err, told)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start after ctx ended: %v", err)
	}
}

func TestStartWithoutAStoreFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := (&Dir{Path: t.TempDir(), Load: loadJSON}).Start(ctx); err == nil {
		t.Error("Dir.Start without a Store returned nil")
	}
	if err := (&GitSource{URL: "file:///nonexistent", Load: loadJSON}).Start(ctx); err == nil {
		t.Error("GitSource.Start without a Store returned nil")
	}
}
