package stack

import (
	"testing"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/simswarm/simswarm/api"
)

func TestResyncIsJitteredWithinTwentyPercent(t *testing.T) {
	for _, j := range []float64{0, 0.5, 0.999999} {
		r, err := New(Config{Stack: api.DefaultStack("s"), Docker: struct{ Docker }{}, Resync: 10 * time.Second,
			Jitter: func() float64 { return j }})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.nextResync(); got < 8*time.Second || got >= 12*time.Second {
			t.Errorf("jitter %v: resync %v outside [8s, 12s)", j, got)
		}
	}
}

func TestOnlyStateChangingContainerEventsPoke(t *testing.T) {
	cases := []struct {
		m    events.Message
		want bool
	}{
		{events.Message{Type: events.ServiceEventType, Action: events.ActionRemove}, true},
		{events.Message{Type: events.NodeEventType, Action: events.ActionUpdate}, true},
		{events.Message{Type: events.ContainerEventType, Action: events.ActionDie}, true},
		{events.Message{Type: events.ContainerEventType, Action: events.ActionStart}, true},
		{events.Message{Type: events.ContainerEventType, Action: "exec_start: sh"}, false},
		{events.Message{Type: events.ContainerEventType, Action: events.ActionAttach}, false},
		{events.Message{Type: events.ContainerEventType, Action: "health_status: ok"}, false},
	}
	for _, c := range cases {
		m, want := c.m, c.want
		if got := relevant(m); got != want {
			t.Errorf("%s %s: relevant = %v, want %v", m.Type, m.Action, got, want)
		}
	}
}
