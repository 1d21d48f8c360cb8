package dashboard

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/stack"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/heartbeat"
)

// Campaigns is what the dashboard reads of the campaign objects; their
// status carries the run counts the reconciler aggregated, so listing them
// never touches the run records. *store.Store satisfies it.
type Campaigns interface {
	List(ctx context.Context) ([]*api.Campaign, error)
	Get(ctx context.Context, name string) (*api.Campaign, error)
}

// RunScanner reads every run record's summary in one pass (the run index's
// refresh). *store.Store satisfies it.
type RunScanner interface {
	ScanRuns(ctx context.Context, fn func(*store.RunSummary) error) error
}

// Builds lists the build records (few: one per content key). Optional;
// *store.Store satisfies it.
type Builds interface {
	Builds(ctx context.Context) ([]schema.BuildRecord, error)
}

// QueueInspector reports a queue's depth. Optional; *asynq.Inspector
// satisfies it.
type QueueInspector interface {
	// Queues lists the queues that ever held a task.
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// LiveRuns lists a campaign object's runs whose tasks are in the queue:
// schema.TaskActive for the ones a worker runs, another state for the ones
// waiting. Optional; *campaign.AsynqQueue satisfies it. Run records say
// Pending until the outcome, so without it in-flight runs show as Pending.
type LiveRuns interface {
	RunTasks(ctx context.Context, campaign, uid string) (map[int]string, error)
}

// Workers lists the live workers' heartbeats. Optional;
// heartbeat.Reader satisfies it.
type Workers interface {
	Heartbeats(ctx context.Context) ([]heartbeat.Beat, error)
}

// SwarmObserver shows the swarm the controller manages: nodes, services,
// tasks and what the stack reconciler last did. Only a controller running
// as a stack's controller service has one (*stack.Reconciler satisfies
// it); without one the swarm view says so.
type SwarmObserver interface {
	Observe(ctx context.Context) (*stack.Observation, error)
}
