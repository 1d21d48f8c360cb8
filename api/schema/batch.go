package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/internal/textutil"
)

// RunItem is one run of a run task and the attempts its record counted
// when the task was sent.
type RunItem struct {
	Run, Attempt int
}

// Items lists the runs a task carries: Runs with Attempts for a batch,
// else Run with Attempt.
func (t RunTask) Items() []RunItem {
	if len(t.Runs) == 0 {
		return []RunItem{{t.Run, t.Attempt}}
	}
	out := make([]RunItem, len(t.Runs))
	for i, r := range t.Runs {
		out[i].Run = r
		if i < len(t.Attempts) {
			out[i].Attempt = t.Attempts[i]
		}
	}
	return out
}

// Batch makes a task of several runs out of t (whose Campaign, UID,
// ArtifactKey, Simulation, Results and Timeout it keeps); one item makes
// an ordinary single-run task, with the same ID and payload as before
// batches existed.
func (t RunTask) Batch(items []RunItem) RunTask {
	t.Runs, t.Attempts = nil, nil
	if len(items) == 0 {
		return t
	}
	t.Run, t.Attempt = items[0].Run, items[0].Attempt
	if len(items) == 1 {
		return t
	}
	for _, it := range items {
		t.Runs = append(t.Runs, it.Run)
		t.Attempts = append(t.Attempts, it.Attempt)
	}
	return t
}

// TaskID is the asynq task ID of t: RunTaskID for one run; for a batch,
// the same form with its runs as a list of ranges ("3-7,9") and the
// highest attempt among them. A run is in one live task at a time (the
// controller dispatches only runs without one), so the ID is unique.
func (t RunTask) TaskID() string {
	items := t.Items()
	if len(items) == 1 {
		return RunTaskID(t.Campaign, t.UID, items[0].Run, items[0].Attempt)
	}
	attempt := 0
	runs := make([]int, len(items))
	for i, it := range items {
		runs[i] = it.Run
		attempt = max(attempt, it.Attempt)
	}
	return fmt.Sprintf("run:%s:%s:%s:%d", t.Campaign, textutil.Prefix(t.UID, 8), FormatRuns(runs), attempt)
}

// FormatRuns writes run numbers as comma-separated ranges ("3-7,9"), in
// their order.
func FormatRuns(runs []int) string {
	var b strings.Builder
	for i := 0; i < len(runs); {
		j := i
		for j+1 < len(runs) && runs[j+1] == runs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(runs[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(runs[j]))
		}
		i = j + 1
	}
	return b.String()
}

// maxRunList bounds the runs ParseRuns expands, against a hostile range.
const maxRunList = 1 << 20

// ParseRuns reads what FormatRuns writes.
func ParseRuns(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("run list %q: %q is not a run number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("run list %q: %q is not a range", s, part)
			}
		}
		if len(out)+b-a+1 > maxRunList {
			return nil, fmt.Errorf("run list %q: more than %d runs", s, maxRunList)
		}
		for r := a; r <= b; r++ {
			out = append(out, r)
		}
	}
	return out, nil
}

// Announcement is the message (ChangesChannel) that says runs of campaign
// finished: the campaign's name, followed by the number of runs when more
// than one (names never hold a space).
func Announcement(campaign string, runs int) string {
	if runs <= 1 {
		return campaign
	}
	return campaign + " " + strconv.Itoa(runs)
}

// Words that end an announcement of a change that is not a finished run.
const (
	builtWord   = "built"
	changedWord = "changed"
)

// BuildAnnouncement is the message (ChangesChannel) that says campaign's
// build ended (and its run list is stored): the controller reconciles it at
// once, where it gathers the runs' announcements. A controller that does not
// know the word reads it as one finished run.
func BuildAnnouncement(campaign string) string { return campaign + " " + builtWord }

// ChangeAnnouncement is the message (ChangesChannel) that says campaign was
// changed through an instance that does not lead (a standby's API): the
// leader reconciles it at once, as it does a change made through its own.
func ChangeAnnouncement(campaign string) string { return campaign + " " + changedWord }

// ParseAnnouncement reads an Announcement: the campaign and how many runs
// finished (1 when the message says no number), or a BuildAnnouncement or
// ChangeAnnouncement: the campaign and 0.
func ParseAnnouncement(msg string) (campaign string, runs int) {
	name, n, ok := strings.Cut(msg, " ")
	if !ok {
		return msg, 1
	}
	if n == builtWord || n == changedWord {
		return name, 0
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 1 {
		return name, 1
	}
	return name, k
}
