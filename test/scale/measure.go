package scale

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat times
// (100 on every Linux this runs on).
const clockTicks = 100

// ProcCPU is the user+system CPU time process pid has used (0 for pid 0).
func ProcCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		pid = os.Getpid()
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces, in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// ProcMem is process pid's resident memory now and at its peak, in bytes.
func ProcMem(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak, nil
}

// redisInfo reads a numeric field of INFO.
func redisInfo(ctx context.Context, rdb *redis.Client, section, field string) (float64, error) {
	s, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO %s has no %s", section, field)
}

func redisPID(tb testing.TB, url string) int {
	tb.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	pid, err := redisInfo(context.Background(), rdb, "server", "process_id")
	if err != nil {
		tb.Fatal(err)
	}
	return int(pid)
}

// sample is the counters at one moment.
type sample struct {
	at                         time.Time
	finished, calls            int64
	ctl, redisCPU, mongo, self time.Duration
	redisCmds                  float64
	cmds                       map[string]cmdStat
}

func (h *Harness) sample(tb testing.TB, rdb *redis.Client, f *Fleet) sample {
	tb.Helper()
	s := sample{at: time.Now(), finished: f.Simulated(), calls: f.Calls()}
	var err error
	for _, p := range []struct {
		pid int
		d   *time.Duration
	}{{h.ControllerPID, &s.ctl}, {h.RedisPID, &s.redisCPU}, {h.MongoPID, &s.mongo}, {os.Getpid(), &s.self}} {
		if *p.d, err = ProcCPU(p.pid); err != nil {
			tb.Fatal(err)
		}
	}
	if s.redisCmds, err = redisInfo(context.Background(), rdb, "stats", "total_commands_processed"); err != nil {
		tb.Fatal(err)
	}
	if s.cmds, err = commandStats(context.Background(), rdb); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Measurement is what the control plane did over a window of sustained
// load.
type Measurement struct {
	Workers, Slots int
	Window         time.Duration
	Runs           int64 // runs finished in the window
	// RunsPerTask is how many runs one simulation carried on average in
	// the window (batched dispatch).
	RunsPerTask float64
	RunsPerSec  float64 // sustained
	// CPU shares (1 = one core) over the window.
	ControllerCPU, RedisCPU, MongoCPU, FleetCPU float64
	ControllerRSS, ControllerPeakRSS            int64
	RedisOpsPerSec                              float64
	// Connections the servers hold at the window's end.
	RedisClients, MongoConns int
	// Commands is what each Redis command cost per run, the costliest
	// first.
	Commands []CommandCost
}

// PerRun is a CPU share in milliseconds of CPU per run.
func (m Measurement) PerRun(share float64) float64 {
	if m.RunsPerSec == 0 {
		return 0
	}
	return share / m.RunsPerSec * 1e3
}

func (m Measurement) String() string {
	return fmt.Sprintf("%5d workers x %d slots: %7.0f runs/s (%.1f runs/task) | controller %3.0f%% CPU (%.3f ms/run) RSS %d MB (peak %d) | redis %6.0f ops/s %3.0f%% CPU (%.3f ms/run) | FerretDB %3.0f%% CPU (%.3f ms/run) | fleet %3.0f%% CPU | connections: redis %d, FerretDB %d",
		m.Workers, m.Slots, m.RunsPerSec, m.RunsPerTask, m.ControllerCPU*100, m.PerRun(m.ControllerCPU), m.ControllerRSS>>20, m.ControllerPeakRSS>>20,
		m.RedisOpsPerSec, m.RedisCPU*100, m.PerRun(m.RedisCPU), m.MongoCPU*100, m.PerRun(m.MongoCPU), m.FleetCPU*100,
		m.RedisClients, m.MongoConns)
}

// Measure waits until the fleet's first simulation plus warm, then
// measures for window (or until total runs have finished, if sooner).
func (h *Harness) Measure(tb testing.TB, f *Fleet, total int64, warm, window time.Duration) Measurement {
	tb.Helper()
	opt, _ := redis.ParseURL(h.RedisURL)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	deadline := time.Now().Add(5 * time.Minute)
	for f.FirstStart().IsZero() {
		if time.Now().After(deadline) {
			tb.Fatalf("no simulation started within 5 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Until(f.FirstStart().Add(warm)))
	stopProfile := h.windowProfile(tb, len(f.Workers), window)
	a := h.sample(tb, rdb, f)
	end := a.at.Add(window)
	for time.Now().Before(end) && f.Simulated() < total {
		time.Sleep(50 * time.Millisecond)
	}
	b := h.sample(tb, rdb, f)
	stopProfile()
	secs := b.at.Sub(a.at).Seconds()
	m := Measurement{Workers: len(f.Workers), Window: b.at.Sub(a.at), Runs: b.finished - a.finished,
		ControllerCPU: (b.ctl - a.ctl).Seconds() / secs, RedisCPU: (b.redisCPU - a.redisCPU).Seconds() / secs,
		MongoCPU: (b.mongo - a.mongo).Seconds() / secs, FleetCPU: (b.self - a.self).Seconds() / secs,
		RedisOpsPerSec: (b.redisCmds - a.redisCmds) / secs}
	if len(f.Workers) > 0 {
		m.Slots = f.slots
	}
	m.RunsPerSec = float64(m.Runs) / secs
	m.Commands = commandCosts(a.cmds, b.cmds, m.Runs)
	if calls := b.calls - a.calls; calls > 0 {
		m.RunsPerTask = float64(m.Runs) / float64(calls)
	}
	var err error
	if m.ControllerRSS, m.ControllerPeakRSS, err = ProcMem(h.ControllerPID); err != nil {
		tb.Fatal(err)
	}
	clients, err := redisInfo(context.Background(), rdb, "clients", "connected_clients")
	if err != nil {
		tb.Fatal(err)
	}
	m.RedisClients = int(clients)
	m.MongoConns = sockets(h.MongoPID) - 1 // less its listener
	return m
}

// sockets counts the open sockets of process pid.
func sockets(pid int) int {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, _ := os.ReadDir(dir)
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(dir + "/" + fd.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

func dialTCP(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }

// signalContext ends on SIGTERM or SIGINT (the controller process).
func signalContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	return ctx
}
