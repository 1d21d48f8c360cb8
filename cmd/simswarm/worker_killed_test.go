package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/test/testproc"
)

// markedPids lists the live processes whose environment carries
// FAKESIM_MARK=mark (zombies count as gone).
func markedPids(mark string) []int {
	var pids []int
	for _, p := range testproc.Carrying("FAKESIM_MARK=" + mark) {
		pids = append(pids, p.Pid)
	}
	return pids
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return !(i > 0 && len(stat) > i+2 && stat[i+2] == 'Z')
}

// runDirs lists the run directories under a worker's cache, wherever the
// worker keeps them.
func runDirs(cache string) []string {
	var dirs []string
	filepath.WalkDir(filepath.Join(cache, "runs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "run-") {
			dirs = append(dirs, p)
			return filepath.SkipDir
		}
		return nil
	})
	return dirs
}

// TestKilledWorkerTakesItsSimulationAlong SIGKILLs a runner worker in the
// middle of a long simulation (which has started a child of its own): the
// simulation must die with the worker within seconds instead of running on
// with parent 1, and the next worker on the same cache removes the dead
// worker's run directory and whatever still runs in it.
func TestKilledWorkerTakesItsSimulationAlong(t *testing.T) {
	rs, mongoURI, db := startRedisAndMongo(t)
	const key = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	storeFakesimArtifact(t, db, key, "[General]\n**.mode = ${mode=hang}\n")
	mark := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Cleanup(func() {
		for _, pid := range markedPids(mark) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	// The simulation leaves a child behind (as wrapper scripts do): the
	// parent-death signal reaches only the simulation itself.
	payload, _ := json.Marshal(schema.RunTask{Campaign: "c", UID: "uid-k", Run: 0, ArtifactKey: key, Attempt: 0,
		Simulation: api.SimulationSpec{Program: []string{"sh", "-c", `sleep 3600 & exec ./fakesim "$@"`, "sh"},
			IniFile: "omnetpp.ini", Config: "General", WorkingDir: ".", Env: map[string]string{"FAKESIM_MARK": mark}},
		Results: []string{"results/*.sca"}, Timeout: api.Duration{Duration: time.Hour}})
	ropt, _ := redis.ParseURL(rs.URL())
	aq := asynq.NewClientFromRedisClient(redis.NewClient(ropt))
	defer aq.Close()
	if _, err := aq.Enqueue(asynq.NewTask(schema.TypeRun, payload), asynq.TaskID(schema.RunTaskID("c", "uid-k", 0, 0)),
		asynq.Queue(schema.QueueRun)); err != nil {
		t.Fatal(err)
	}

	cache := t.TempDir()
	w := startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", cache, "--name", "doomed")
	waitUntil(t, "the simulation and its child", 30*time.Second, func() bool { return len(markedPids(mark)) == 2 })
	pids := markedPids(mark)
	stale := runDirs(cache)
	if len(stale) != 1 {
		t.Fatalf("run directories %v, want one", stale)
	}

	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()
	killed := time.Now()
	// The child (started second, so the higher pid unless pids wrapped) may
	// linger until the next worker; the simulation may not.
	sim, child := min(pids[0], pids[1]), max(pids[0], pids[1])
	waitUntil(t, "the simulation to die with its worker", 5*time.Second, func() bool { return !alive(sim) })
	t.Logf("simulation gone %s after its worker", time.Since(killed).Round(time.Millisecond))

	// The next worker on this cache clears what the dead one left: its run
	// directory and the child still running in it.
	startProc(t, nil, "worker", "--role", "run", "--redis", rs.URL(), "--mongo", mongoURI,
		"--cache", cache, "--name", "next")
	waitUntil(t, "the stale run directory to go", 20*time.Second, func() bool {
		_, err := os.Stat(stale[0])
		return os.IsNotExist(err)
	})
	// (The task itself comes back to the next worker once its lease runs
	// out, which starts a new simulation: look at the old pids only.)
	waitUntil(t, "the orphaned child to go", 5*time.Second, func() bool { return !alive(child) })
}
