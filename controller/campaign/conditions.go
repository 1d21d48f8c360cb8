package campaign

import (
	"time"

	"github.com/simswarm/simswarm/api"
)

// Conditions follow kstatus: Ready is always there and summarises (True
// only when the campaign succeeded); Reconciling and Stalled are there
// only while True, each with its own reason (Building, Running, ...;
// InvalidSpec, BuildFailed, RunsFailed), which Ready repeats. A suspended
// campaign has neither. Degraded (workers' failures) stands beside them.

// summary is what a pass says of a campaign.
type summary int

const (
	progressing summary = iota // Reconciling: work is under way
	stalled                    // Stalled: nothing will change without a new spec
	ready                      // Ready: done, and succeeded
	idle                       // neither: suspended
)

// summarize sets Ready, Reconciling and Stalled for sum, with reason and
// msg, and removes Reconciling and Stalled when they are not true.
func summarize(conds []api.Condition, sum summary, reason, msg string, gen int64, now time.Time) []api.Condition {
	readyStatus := api.ConditionFalse
	if sum == ready {
		readyStatus = api.ConditionTrue
	}
	conds = setCondition(conds, api.ConditionReady, readyStatus, reason, msg, gen, now)
	for _, c := range []struct {
		typ string
		on  bool
	}{{api.ConditionReconciling, sum == progressing}, {api.ConditionStalled, sum == stalled}} {
		if c.on {
			conds = setCondition(conds, c.typ, api.ConditionTrue, reason, msg, gen, now)
		} else {
			conds = removeCondition(conds, c.typ)
		}
	}
	return conds
}

func setCondition(conds []api.Condition, typ, status, reason, msg string, gen int64, now time.Time) []api.Condition {
	for i := range conds {
		if conds[i].Type != typ {
			continue
		}
		if conds[i].Status != status {
			conds[i].LastTransitionTime = now
		}
		conds[i].Status, conds[i].Reason, conds[i].Message, conds[i].ObservedGeneration = status, reason, msg, gen
		return conds
	}
	return append(conds, api.Condition{Type: typ, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: gen, LastTransitionTime: now})
}

func removeCondition(conds []api.Condition, typ string) []api.Condition {
	out := conds[:0]
	for _, c := range conds {
		if c.Type != typ {
			out = append(out, c)
		}
	}
	return out
}

func findCondition(conds []api.Condition, typ string) *api.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}
