package heartbeat

import "time"

// KeyPrefix prefixes every heartbeat key: Key(name) for one worker,
// KeyPrefix+"*" for all of them.
const KeyPrefix = "simswarm:workers:"

// Key is the Redis key of the heartbeat of the worker called name.
func Key(name string) string { return KeyPrefix + name }

// Every is how often a worker beats; TTL how long its entry lives without
// a new beat. A worker's entry disappears within TTL of its death, so
// readers see only live workers.
const (
	Every = 10 * time.Second
	TTL   = 30 * time.Second
)

// Beat is what a worker publishes under Key(Name), as JSON.
type Beat struct {
	Name  string `json:"name"`
	Role  string `json:"role"` // "run" or "build"
	Slots int    `json:"slots"`
	// Task is a one-line summary of what the worker does ("" = idle);
	// Tasks lists each busy slot's task ("aloha run 7").
	Task  string   `json:"task"`
	Tasks []string `json:"tasks"`
	// Since is when the worker last took a task (zero: never).
	Since time.Time `json:"since"`
	// Waiting says why a runner takes no tasks now ("" = it does): its
	// node's slot count is not published yet, or is 0.
	Waiting string `json:"waiting,omitempty"`
	// TTL is how long the entry lives without a new beat (read from Redis,
	// not published).
	TTL time.Duration `json:"-"`
}

// RoleRun is the Role of a runner, whose slots RunSlots counts.
const RoleRun = "run"

// ActiveSlots is the tasks the worker carries out at once: its slots, at
// least one (an old worker announcing none had one), and none while it
// is Waiting.
func (b Beat) ActiveSlots() int {
	if b.Waiting != "" {
		return 0
	}
	return max(b.Slots, 1)
}
