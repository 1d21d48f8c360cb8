package peakrss

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// childEnv marks the child process Run starts.
const childEnv = "SIMSWARM_PEAKRSS_CHILD"

// marker starts the line Report prints.
const marker = "peakrss: VmHWM kB "

// InChild reports whether this process is the child Run started.
func InChild() bool { return os.Getenv(childEnv) != "" }

// Run runs the calling test again in a child process with env added, and
// returns the peak resident memory in bytes that the child reported.
func Run(t testing.TB, env ...string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("measured child of %s: %v\n%s", t.Name(), err, tail(out.String()))
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if _, v, ok := strings.Cut(line, marker); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	t.Fatalf("measured child of %s reported no peak RSS:\n%s", t.Name(), tail(out.String()))
	return 0
}

// Report prints this process's peak resident memory for Run to read; call
// it in the child when the work is done.
func Report(t testing.TB) {
	t.Helper()
	kb, err := VmHWM()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%d\n", marker, kb)
}

// VmHWM is this process's peak resident memory in kB, from /proc.
func VmHWM() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("peak RSS: no VmHWM in /proc/self/status")
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
