package runner

import "strings"

// maxFailureKind bounds a failure kind as stored on the run record.
const maxFailureKind = 512

// failureKind is how an attempt failed, for telling a deterministic
// failure (every attempt the same) from a flaky one: the reason (exit
// status, signal, timeout, no result files) and the program's own
// "<!> Error" lines, without what differs between attempts of the same
// failure (durations, process ids and the like are in neither).
func failureKind(msg, stderrTail string) string {
	kind := msg
	for _, line := range strings.Split(stderrTail, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "<!> Error") {
			kind += "\n" + line
		}
	}
	if len(kind) > maxFailureKind {
		kind = kind[:maxFailureKind]
	}
	return kind
}
