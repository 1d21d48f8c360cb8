package oppcli

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/simswarm/simswarm/workers/procexec"
)

// batchLogLines bounds the lines kept per run.
const batchLogLines = 20

// BatchLog follows what a Cmdenv process running a batch of runs prints,
// with stdout and stderr merged in order: with -s Cmdenv announces each run
// with "<Config> run <N>: <iteration variables>" before starting it, and
// reports a failure with "<!> Error..." lines. It tells which runs started,
// and which lines (errors included) came while each was the current run.
// Write it from one goroutine (a pipe reader), read it after the process
// exited.
type BatchLog struct {
	prefix  string
	batch   map[int]bool
	mu      sync.Mutex
	partial []byte
	current int // -1 before the first run starts
	started []int
	lines   map[int][]string
	errors  map[int][]string
	// onFinished, when set, hears of each run that finished while the
	// process goes on; done holds the runs it was told of.
	onFinished func(run int)
	done       []int
}

// OnFinished makes the log call f (from Write, outside its lock) with each
// run that finished while the process still runs: the run before the one
// just announced, if no error was printed while it ran. Cmdenv has closed a
// run's result files by then.
func (l *BatchLog) OnFinished(f func(run int)) { l.onFinished = f }

// NewBatchLog follows a process running runs of config.
func NewBatchLog(config string, runs []int) *BatchLog {
	l := &BatchLog{prefix: config + " run ", batch: map[int]bool{}, current: -1, lines: map[int][]string{}, errors: map[int][]string{}}
	for _, r := range runs {
		l.batch[r] = true
	}
	return l
}

func (l *BatchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	n, done := l.write(p)
	l.mu.Unlock()
	if l.onFinished != nil {
		for _, r := range done {
			l.onFinished(r)
		}
	}
	return n, nil
}

func (l *BatchLog) write(p []byte) (int, []int) {
	before := len(l.done)
	data := p
	if len(l.partial) > 0 {
		data = append(l.partial, p...)
	}
	for {
		// Not strings.IndexByte(string(data)): that copied the rest of the
		// buffer for every line (175 MB copied for 0.8 MB of output).
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		l.line(strings.TrimRight(string(data[:i]), "\r"))
		data = data[i+1:]
	}
	if len(data) > 4096 {
		l.line(string(data))
		data = nil
	}
	l.partial = append(l.partial[:0], data...)
	return len(p), l.done[before:]
}

func (l *BatchLog) line(s string) {
	if rest, ok := strings.CutPrefix(s, l.prefix); ok {
		num, _, found := strings.Cut(rest, ":")
		if n, err := strconv.Atoi(num); found && err == nil && l.batch[n] {
			if l.current >= 0 && len(l.errors[l.current]) == 0 {
				l.done = append(l.done, l.current)
			}
			l.current = n
			l.started = append(l.started, n)
			return
		}
	}
	if strings.TrimSpace(s) == "" {
		return
	}
	if strings.HasPrefix(s, "<!> Error") {
		l.errors[l.current] = append(l.errors[l.current], s)
	}
	ls := append(l.lines[l.current], s)
	if len(ls) > batchLogLines {
		ls = ls[len(ls)-batchLogLines:]
	}
	l.lines[l.current] = ls
}

func (l *BatchLog) flush() {
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = nil
	}
}

// Started lists the runs the process announced, in order.
func (l *BatchLog) Started() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush()
	return append([]int(nil), l.started...)
}

// Errors are the "<!> Error" lines printed while run was current (run -1:
// before any run started, e.g. an unknown config).
func (l *BatchLog) Errors(run int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush()
	return append([]string(nil), l.errors[run]...)
}

// Output is the last lines printed while run was current.
func (l *BatchLog) Output(run int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush()
	return strings.Join(l.lines[run], "\n")
}

// RedirectedError is the file named by Cmdenv's "<!> Error -- see FILE for
// details", which it prints instead of the error itself when the run's
// output is redirected to FILE.
func RedirectedError(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "<!> Error -- see ")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, " for details")
}

// Outcome splits the batch runs by how its process ended (res) and what it
// printed: with exit status 0 every run finished; otherwise the runs Cmdenv
// announced before the last one it announced finished (it runs them in
// order and by default stops at the first failure), unless an error was
// printed while they ran; the last one and those failed; runs never
// announced did not start. A failure before any run started is every
// run's; a cancellation before then is nobody's.
func (l *BatchLog) Outcome(res procexec.Result, runs []int) (finished, failed []int) {
	if res.Success() {
		return runs, nil
	}
	started := l.Started()
	if len(started) == 0 {
		if res.Canceled {
			return nil, nil
		}
		return nil, runs
	}
	for i, r := range started {
		if i == len(started)-1 || len(l.Errors(r)) > 0 {
			failed = append(failed, r)
		} else {
			finished = append(finished, r)
		}
	}
	return finished, slices.Clip(failed)
}
