package scale

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// profileEnv names a directory for CPU profiles of the measurement window:
// the simulated runners' (this process) and the controller's, as
// test/bench/throughput.sh's PROFILE=dir does for simswarm's processes.
const profileEnv = "SIMSWARM_SCALE_PROFILE"

// windowProfile profiles this process and the controller (through its
// pprof listener) for d; stop writes both profiles, named for the fleet's
// size, into profileEnv's directory. Unset: nothing.
func (h *Harness) windowProfile(tb interface{ Logf(string, ...any) }, workers int, d time.Duration) (stop func()) {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() {}
	}
	base := filepath.Join(dir, fmt.Sprintf("w%d", workers))
	f, err := os.Create(base + "-fleet.pprof")
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		tb.Logf("%s: no profile of the fleet: %v", profileEnv, err)
		return func() {}
	}
	ctl := make(chan error, 1)
	go func() {
		if h.ctlPprof == "" {
			ctl <- fmt.Errorf("controller has no pprof listener")
			return
		}
		r, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", h.ctlPprof, max(1, int(d.Seconds()))))
		if err != nil {
			ctl <- err
			return
		}
		defer r.Body.Close()
		out, err := os.Create(base + "-controller.pprof")
		if err == nil {
			_, err = io.Copy(out, r.Body)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		ctl <- err
	}()
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if err := <-ctl; err != nil {
			tb.Logf("%s: no profile of the controller: %v", profileEnv, err)
		}
	}
}

// cmdStat is one Redis command's counters (INFO commandstats).
type cmdStat struct {
	calls, usec float64
}

// commandStats reads INFO commandstats: calls and CPU microseconds of
// each command since Redis started.
func commandStats(ctx context.Context, rdb *redis.Client) (map[string]cmdStat, error) {
	s, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	out := map[string]cmdStat{}
	for _, line := range strings.Split(s, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var c cmdStat
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "calls":
				c.calls = n
			case "usec":
				c.usec = n
			}
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = c
	}
	return out, nil
}

// CommandCost is what one Redis command cost per finished run over a
// window.
type CommandCost struct {
	Name string
	// CallsPerRun and USecPerRun: calls and Redis CPU (µs, as Redis
	// counts it inside the command) per finished run.
	CallsPerRun, USecPerRun float64
}

// commandCosts is b-a per run, the costliest first.
func commandCosts(a, b map[string]cmdStat, runs int64) []CommandCost {
	if runs <= 0 {
		return nil
	}
	var out []CommandCost
	for name, cb := range b {
		ca := a[name]
		if cb.calls == ca.calls {
			continue
		}
		out = append(out, CommandCost{Name: name, CallsPerRun: (cb.calls - ca.calls) / float64(runs), USecPerRun: (cb.usec - ca.usec) / float64(runs)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].USecPerRun > out[j].USecPerRun })
	return out
}

// CommandTable formats the Redis commands' costs per run.
func (m Measurement) CommandTable() string {
	var b strings.Builder
	var calls, usec float64
	for _, c := range m.Commands {
		calls += c.CallsPerRun
		usec += c.USecPerRun
	}
	fmt.Fprintf(&b, "  redis commands per run at %d workers: %.2f calls, %.1f µs inside commands\n", m.Workers, calls, usec)
	for _, c := range m.Commands {
		fmt.Fprintf(&b, "    %-16s %7.3f calls %7.2f µs\n", c.Name, c.CallsPerRun, c.USecPerRun)
	}
	return b.String()
}
