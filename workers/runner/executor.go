package runner

import (
	"context"

	"github.com/simswarm/simswarm/workers/procexec"
)

// Executor starts a simulation's program and waits for it. The runner's
// own is procexec (a process per invocation); the scale harness (test/scale)
// gives one whose "simulation" is a timer, so that many simulated workers
// measure what the control plane costs, not what processes cost.
type Executor interface {
	Run(ctx context.Context, c procexec.Cmd) procexec.Result
}

// processes is the Executor of real workers.
type processes struct{}

func (processes) Run(ctx context.Context, c procexec.Cmd) procexec.Result {
	return procexec.Run(ctx, c)
}

func (h *Handler) executor() Executor {
	if h.Exec == nil {
		return processes{}
	}
	return h.Exec
}
