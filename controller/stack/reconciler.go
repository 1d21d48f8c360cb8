package stack

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/reconcile"
	"go.uber.org/zap"
)

// Reconciler keeps one stack converged.
type Reconciler struct {
	docker  Docker
	events  EventSource
	hosts   HostPublisher
	slots   SlotPublisher
	stack   *api.Stack
	log     *zap.Logger
	leading func() bool
	resync  time.Duration
	jitter  func() float64

	lastHosts  []string
	lastSlots  map[string]int
	stuckGrace time.Duration
	stuckSince map[string]time.Time // task ID -> first pass that saw it stuck
	passes     atomic.Int64         // completed passes of Run
	actions    actionLog            // what passes did, for dashboards
	now        func() time.Time
	onPass     func(took time.Duration, err error)
}

// Config configures a Reconciler.
type Config struct {
	// Stack is the defaulted, validated Stack to keep.
	Stack *api.Stack
	// Docker is the Docker API (narrow); Events its event stream (may be
	// nil: then only periodic resyncs drive Run).
	Docker Docker
	Events EventSource
	// Hosts receives the distcc host list (nil: not published).
	Hosts HostPublisher
	// Slots receives each node's runner slot count (nil: not published;
	// the runners then wait).
	Slots  SlotPublisher
	Logger *zap.Logger
	// Leading says whether this controller leads; nil means always.
	Leading func() bool
	// Resync is the mean period of full passes without events. Default 30s;
	// each wait is jittered by ±20% so many controllers do not align.
	Resync time.Duration
	// Jitter returns a number in [0,1); default reconcile.NewJitter.
	Jitter func() float64
	// Now is the clock of the action log; default time.Now.
	Now func() time.Time
	// StuckGrace is how long a task must wait for a node that has room
	// for it before the reconciler nudges its service (see pending.go);
	// default DefaultStuckGrace.
	StuckGrace time.Duration
	// OnPass, if set, is told how long every pass of Run took and how it
	// ended (the runtime's reconcile metric; a pass skipped while not
	// leading counts as a short successful one).
	OnPass func(took time.Duration, err error)
}

// New checks cfg and returns a Reconciler.
func New(cfg Config) (*Reconciler, error) {
	if cfg.Stack == nil || cfg.Docker == nil {
		return nil, errors.New("stack reconciler: Stack and Docker are required")
	}
	if err := api.ValidateStack(cfg.Stack); err != nil {
		return nil, fmt.Errorf("stack reconciler: %w", err)
	}
	r := &Reconciler{
		docker: cfg.Docker, events: cfg.Events, hosts: cfg.Hosts, slots: cfg.Slots, stack: cfg.Stack,
		log: cfg.Logger, leading: cfg.Leading, resync: cfg.Resync, jitter: cfg.Jitter,
		now: cfg.Now, onPass: cfg.OnPass, stuckGrace: cfg.StuckGrace,
	}
	if r.jitter == nil {
		r.jitter = reconcile.NewJitter()
	}
	if r.stuckGrace <= 0 {
		r.stuckGrace = DefaultStuckGrace
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = zap.NewNop()
	}
	r.log = r.log.With(zap.String("stack", cfg.Stack.Metadata.Name))
	if r.leading == nil {
		r.leading = func() bool { return true }
	}
	if r.resync <= 0 {
		r.resync = 30 * time.Second
	}
	return r, nil
}
