package main

import (
	"strings"
	"testing"
)

// TestMissingArgumentsAreUsageErrors: a command given too few or too many
// arguments exits with status 2 (invalid input, as a bad flag does) and
// shows how it is used, for every command that checks its arguments.
func TestMissingArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"runall", "-j2"},
		{"describe"},
		{"logs"},
		{"delete"},
		{"wait"},
		{"retry"},
		{"logs", "a", "b", "c", "d"},
	} {
		_, stderr, status := runManifestCmd(t, args...)
		if status != 2 || !strings.Contains(stderr, "usage: simswarm "+args[0]) {
			t.Errorf("simswarm %s: status %d, stderr %q; want 2 and the usage line", strings.Join(args, " "), status, stderr)
		}
	}
}

// TestNegativeCountsAreRefused: a negative number of parallel runs or of
// retries is invalid input naming the flag, not a default taken silently.
func TestNegativeCountsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"runall", "-j", "-1", "./aloha"}, "-j"},
		{[]string{"runall", "--retries", "-1", "./aloha"}, "--retries"},
		{[]string{"run", "-j", "-2", "-f", "campaign.yaml"}, "-j"},
	} {
		_, stderr, status := runManifestCmd(t, tc.args...)
		if status != 2 || !strings.Contains(stderr, tc.flag+": -") {
			t.Errorf("simswarm %s: status %d, stderr %q; want 2 naming %s", strings.Join(tc.args, " "), status, stderr, tc.flag)
		}
	}
}

// TestNameOrFlagSaysWhatIsWrong: a command that takes a campaign NAME or a
// flag in its place says which mistake was made: neither given, both, or
// more than one name.
func TestNameOrFlagSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"results", "table"}, "give a campaign NAME or --dir DIR (a local results directory)\n"},
		{[]string{"results", "table", "aloha", "--dir", "results"}, "give a campaign NAME or --dir DIR (a local results directory), not both"},
		{[]string{"results", "table", "aloha", "fifo"}, "one campaign NAME, not 2: aloha fifo"},
		{[]string{"results", "pull"}, "give a campaign NAME or --uid UID (of a deleted campaign)\n"},
		{[]string{"results", "pull", "aloha", "--uid", "0b7c"}, "give a campaign NAME or --uid UID (of a deleted campaign), not both"},
		{[]string{"results", "pull", "a", "b", "c"}, "one campaign NAME, not 3: a b c"},
	} {
		_, stderr, status := runManifestCmd(t, tc.args...)
		if status != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "usage: simswarm "+strings.Join(tc.args[:2], " ")) {
			t.Errorf("simswarm %s: status %d, stderr %q; want 2, %q and the usage line", strings.Join(tc.args, " "), status, stderr, tc.want)
		}
	}
}
