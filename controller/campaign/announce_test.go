package campaign

import (
	"context"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/schema"
)

// frozenClock never fires: a pass reached through it never comes.
type frozenClock struct{}

func (frozenClock) Now() time.Time                              { return time.Unix(1_000_000, 0) }
func (frozenClock) AfterFunc(time.Duration, func()) func() bool { return func() bool { return true } }

// A builder's announcement that a campaign's build ended is reconciled at
// once, not gathered like the runs' announcements: a million-run campaign's
// first records wait for that pass (the runs' coalesceChanges, 200 ms, was
// a fifth of the aim of a first dispatch within a second).
func TestABuildAnnouncementIsReconciledAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{Reconciler: e.r, Clock: frozenClock{}, Jitter: func() float64 { return 0 }}
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	time.Sleep(100 * time.Millisecond) // the start's resync finds no campaign
	if _, err := e.st.Create(ctx, newCampaign("c", "0..9")); err != nil {
		t.Fatal(err)
	}
	e.reconcile(t, "c")
	cp, _ := e.st.Get(ctx, "c")
	e.finishBuild(t, cp.Status.Build.Key)

	c.Announced(schema.BuildAnnouncement("c"))
	deadline := time.Now().Add(5 * time.Second)
	for e.counts(t, "c", cp.Metadata.UID).Total == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no run record 5 s after the build was announced")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if name, runs := schema.ParseAnnouncement(schema.BuildAnnouncement("c")); name != "c" || runs != 0 {
		t.Fatalf("a build announcement reads as campaign %q with %d finished runs", name, runs)
	}
}
