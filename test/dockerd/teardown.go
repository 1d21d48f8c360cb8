package dockertest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// teardown stops everything Start created, in an order that leaves nothing
// behind: services first (so their containers stop cleanly), then the
// daemon's process group, then stragglers, mounts, the bridge, the files.
func (d *Daemon) teardown(t testing.TB) {
	if t.Failed() {
		t.Log(d.logTail())
	}
	if b, err := os.ReadFile(d.logPath); err == nil && bytes.Contains(b, []byte("registry-1.docker.io")) {
		t.Errorf("the private dockerd tried to reach a registry (tests must not touch the network): use local images and --no-resolve-image/--resolve-image never with the CLI")
	}
	start := time.Now()
	defer func() { t.Logf("dockerd teardown took %v", time.Since(start)) }()
	if d.Client != nil && d.cmd != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if svcs, err := d.Client.ServiceList(ctx, swarm.ServiceListOptions{}); err == nil {
			for _, s := range svcs {
				_ = d.Client.ServiceRemove(ctx, s.ID)
			}
		}
		cancel()
		_ = d.Client.Close()
	}
	if d.cmd != nil && d.cmd.Process != nil {
		pgid := d.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-d.waitExit:
		case <-time.After(20 * time.Second):
			t.Logf("dockerd did not stop on SIGTERM; killing its process group")
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-d.waitExit
		}
		// The engine's own process group may have survivors too.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	d.killStragglers(t)
	killCgroup(t, d.opts.cgroupParent)
	d.unmountAll(t)
	if d.gwBridge != "" {
		// Only exists once swarm init ran; ignore "cannot find device".
		_ = exec.Command("ip", "link", "delete", d.gwBridge).Run()
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		t.Logf("remove %s: %v", d.Dir, err)
	}
}

// killStragglers kills processes whose command line names this daemon's
// directory: containerd shims detach from dockerd's process group, and
// they (with their containers) would otherwise outlive the test.
func (d *Daemon) killStragglers(t testing.TB) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	needle := []byte(d.Dir + "/")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, needle) {
			continue
		}
		t.Logf("killing leftover process %d: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// unmountAll detaches every mount below the daemon directory (network
// namespaces, container root filesystems, shm), deepest first.
func (d *Daemon) unmountAll(t testing.TB) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], d.Dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
			t.Logf("unmount %s: %v", p, err)
		}
	}
}
