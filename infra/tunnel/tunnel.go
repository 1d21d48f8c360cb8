package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/internal/textutil"
)

// Forward is one -L forward. Local and Remote are host:port addresses or
// absolute unix socket paths.
type Forward struct {
	Local  string `json:"local"`
	Remote string `json:"remote"`
}

func (f Forward) arg() string { return f.Local + ":" + f.Remote }

func isSocket(addr string) bool { return strings.HasPrefix(addr, "/") }

// Spec says where a tunnel goes and what it forwards.
type Spec struct {
	// Name identifies the tunnel (a cluster name); it names the PID file.
	Name string
	Host string
	Port int // 0 = 22
	User string
	// IdentityFile is the private key; empty = ssh's defaults and agent.
	IdentityFile string
	// KnownHostsFile holds the host's keys; with StrictHostKeyChecking
	// "yes" (the default) an unknown key fails the connection,
	// "accept-new" records a first key and fails on a changed one.
	KnownHostsFile        string
	StrictHostKeyChecking string
	// HostKeyAlias is the name the key is filed under in KnownHostsFile
	// (the host's address changes when an instance is stopped and started).
	HostKeyAlias string
	// ConfigFile is passed as ssh -F; "" reads the user's ssh config,
	// "none" reads none.
	ConfigFile string
	Forwards   []Forward
	// SSH is the ssh binary; "" = ssh in PATH.
	SSH string
}

// Info describes a running tunnel.
type Info struct {
	Name     string    `json:"name"`
	PID      int       `json:"pid"`
	Argv     []string  `json:"argv"`
	Forwards []Forward `json:"forwards"`
	Started  time.Time `json:"started"`
	// Reused is true when Connect found this tunnel already running.
	Reused bool `json:"-"`
	// PIDFile is where the tunnel is recorded.
	PIDFile string `json:"-"`
}

// Manager starts, finds and stops tunnels recorded in Dir.
type Manager struct {
	Dir    string
	Logger *zap.Logger
	// ReadyTimeout bounds how long Connect waits for the forwards (default 30s).
	ReadyTimeout time.Duration
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// DefaultDir is $XDG_RUNTIME_DIR/simswarm, or simswarm-<uid> in the temp
// directory when there is no runtime directory. It is created 0700 and
// must belong to the user.
func DefaultDir() (string, error) {
	var dir string
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		dir = filepath.Join(rt, "simswarm")
	} else {
		dir = filepath.Join(os.TempDir(), "simswarm-"+strconv.Itoa(os.Getuid()))
	}
	return dir, ensureDir(dir)
}

// ensureDir creates dir 0700 and refuses one that someone else owns or
// others can write (a PID file there could point us at any process).
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tunnel directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("tunnel directory: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || (ok && int(sys.Uid) != os.Getuid()) || st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("tunnel directory %s: not a directory of yours that only you can write", dir)
	}
	return nil
}

func (m *Manager) log() *zap.Logger {
	if m.Logger == nil {
		return zap.NewNop()
	}
	return m.Logger
}

func (m *Manager) pidFile(name string) string { return filepath.Join(m.Dir, "tunnel-"+name+".json") }
func (m *Manager) logFile(name string) string { return filepath.Join(m.Dir, "tunnel-"+name+".log") }

// Argv is the ssh command line of spec.
func Argv(spec Spec) ([]string, error) {
	if !nameRE.MatchString(spec.Name) {
		return nil, fmt.Errorf("tunnel name %q: want letters, digits, '.', '_' or '-'", spec.Name)
	}
	if spec.Host == "" || strings.HasPrefix(spec.Host, "-") || strings.ContainsAny(spec.Host, " \t\n@") {
		return nil, fmt.Errorf("tunnel %s: host %q is not a host name or address", spec.Name, spec.Host)
	}
	if spec.User == "" || strings.HasPrefix(spec.User, "-") || strings.ContainsAny(spec.User, " \t\n@:") {
		return nil, fmt.Errorf("tunnel %s: user %q is not a login name", spec.Name, spec.User)
	}
	if len(spec.Forwards) == 0 {
		return nil, fmt.Errorf("tunnel %s: nothing to forward", spec.Name)
	}
	if spec.KnownHostsFile == "" {
		return nil, fmt.Errorf("tunnel %s: no known_hosts file: host keys are always checked", spec.Name)
	}
	strict := spec.StrictHostKeyChecking
	switch strict {
	case "":
		strict = "yes"
	case "yes", "accept-new":
	default:
		return nil, fmt.Errorf("tunnel %s: StrictHostKeyChecking %q: want yes or accept-new", spec.Name, strict)
	}
	ssh := spec.SSH
	if ssh == "" {
		var err error
		if ssh, err = exec.LookPath("ssh"); err != nil {
			return nil, fmt.Errorf("ssh not found in PATH (install openssh-client): %w", err)
		}
	}
	port := spec.Port
	if port == 0 {
		port = 22
	}
	argv := []string{ssh, "-N"}
	if spec.ConfigFile != "" {
		argv = append(argv, "-F", spec.ConfigFile)
	}
	argv = append(argv,
		"-o", "BatchMode=yes",
		"-o", "ExitOnForwardFailure=yes",
		"-o", "StrictHostKeyChecking="+strict,
		"-o", "UserKnownHostsFile="+spec.KnownHostsFile,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "ServerAliveInterval=15",
		"-o", "ServerAliveCountMax=4",
		"-o", "StreamLocalBindUnlink=yes",
		"-o", "ConnectTimeout=15",
	)
	if spec.HostKeyAlias != "" {
		argv = append(argv, "-o", "HostKeyAlias="+spec.HostKeyAlias)
	}
	if spec.IdentityFile != "" {
		argv = append(argv, "-o", "IdentitiesOnly=yes", "-i", spec.IdentityFile)
	}
	for _, f := range spec.Forwards {
		if f.Local == "" || f.Remote == "" || strings.HasPrefix(f.Local, "-") || strings.HasPrefix(f.Remote, "-") {
			return nil, fmt.Errorf("tunnel %s: forward %q -> %q: want host:port or /socket/path on both sides", spec.Name, f.Local, f.Remote)
		}
		argv = append(argv, "-L", f.arg())
	}
	argv = append(argv, "-p", strconv.Itoa(port), "-l", spec.User, "--", spec.Host)
	return argv, nil
}

// Connect starts the tunnel, or returns the running one of the same name
// and argv. A running tunnel of the same name but other settings is
// replaced.
func (m *Manager) Connect(ctx context.Context, spec Spec) (Info, error) {
	argv, err := Argv(spec)
	if err != nil {
		return Info{}, err
	}
	if err := ensureDir(m.Dir); err != nil {
		return Info{}, err
	}
	if cur, alive, err := m.Status(spec.Name); err != nil {
		return Info{}, err
	} else if alive && sameTunnel(cur.Argv, argv) {
		cur.Reused = true
		return cur, nil
	} else if alive {
		m.log().Info("tunnel settings changed, restarting", zap.String("tunnel", spec.Name), zap.Int("pid", cur.PID))
		if _, err := m.Disconnect(spec.Name); err != nil {
			return Info{}, err
		}
	}
	for _, f := range spec.Forwards {
		if err := localFree(f.Local); err != nil {
			return Info{}, fmt.Errorf("tunnel %s: %w", spec.Name, err)
		}
	}

	logPath := m.logFile(spec.Name)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return Info{}, fmt.Errorf("tunnel %s: %w", spec.Name, err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: no terminal signals, it outlives this command.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Info{}, fmt.Errorf("tunnel %s: start ssh: %w", spec.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	info := Info{Name: spec.Name, PID: cmd.Process.Pid, Argv: argv, Forwards: spec.Forwards, Started: time.Now().UTC(), PIDFile: m.pidFile(spec.Name)}
	if err := m.writePIDFile(info); err != nil {
		_ = cmd.Process.Kill()
		return Info{}, err
	}

	timeout := m.ReadyTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		if ready(spec.Forwards) {
			select {
			case <-exited:
			default:
				m.log().Info("tunnel up", zap.String("tunnel", spec.Name), zap.Int("pid", info.PID))
				return info, nil
			}
		}
		select {
		case <-exited:
			_ = os.Remove(info.PIDFile)
			return Info{}, fmt.Errorf("tunnel %s: ssh exited: %s", spec.Name, tail(logPath))
		case <-ctx.Done():
			m.kill(info)
			return Info{}, fmt.Errorf("tunnel %s: %w", spec.Name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.kill(info)
			return Info{}, fmt.Errorf("tunnel %s: forwards not ready after %v: %s", spec.Name, timeout, tail(logPath))
		}
	}
}

// sameTunnel compares two ssh command lines. How strictly an unknown host
// key was treated only matters while connecting: a tunnel that accepted
// and recorded a first key is the same tunnel as one that checks it.
func sameTunnel(a, b []string) bool {
	strip := func(argv []string) []string {
		var out []string
		for _, s := range argv {
			if !strings.HasPrefix(s, "StrictHostKeyChecking=") {
				out = append(out, s)
			}
		}
		return out
	}
	return slices.Equal(strip(a), strip(b))
}

// localFree fails when a local TCP address is taken: ssh would exit, and a
// dial could reach the other process and look like success.
func localFree(addr string) error {
	if isSocket(addr) {
		return nil // StreamLocalBindUnlink replaces a stale socket
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("local address %s is in use (pick another local port)", addr)
	}
	return l.Close()
}

func ready(fs []Forward) bool {
	for _, f := range fs {
		network := "tcp"
		if isSocket(f.Local) {
			network = "unix"
		}
		c, err := net.DialTimeout(network, f.Local, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.ReplaceAll(textutil.LastLines(strings.TrimSpace(string(b)), 3), "\n", "; ")
	if s == "" {
		return "no output"
	}
	return s
}

func (m *Manager) writePIDFile(info Info) error {
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp := info.PIDFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("tunnel %s: write PID file: %w", info.Name, err)
	}
	return os.Rename(tmp, info.PIDFile)
}

// Status reads the tunnel's PID file and reports whether that exact ssh
// process is alive. No PID file is not an error (alive false).
func (m *Manager) Status(name string) (Info, bool, error) {
	if !nameRE.MatchString(name) {
		return Info{}, false, fmt.Errorf("tunnel name %q: want letters, digits, '.', '_' or '-'", name)
	}
	path := m.pidFile(name)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("tunnel %s: %w", name, err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil || info.PID <= 0 || len(info.Argv) == 0 {
		return Info{}, false, fmt.Errorf("tunnel %s: PID file %s is damaged (delete it)", name, path)
	}
	info.PIDFile = path
	return info, isProcess(info.PID, info.Argv), nil
}

// isProcess reports whether pid is alive (not a zombie) and runs argv.
func isProcess(pid int, argv []string) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X' {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return string(cmdline) == strings.Join(argv, "\x00")+"\x00"
}

// Disconnect ends the tunnel's ssh process (TERM, then KILL after 5s) and
// removes its PID file. It reports whether a tunnel was running; a PID
// file whose process is gone or is no longer this ssh is just removed.
func (m *Manager) Disconnect(name string) (bool, error) {
	info, alive, err := m.Status(name)
	if err != nil {
		return false, err
	}
	if info.PIDFile == "" {
		return false, nil
	}
	if alive {
		m.kill(info)
		m.log().Info("tunnel down", zap.String("tunnel", name), zap.Int("pid", info.PID))
	}
	for _, f := range info.Forwards {
		if isSocket(f.Local) {
			_ = os.Remove(f.Local)
		}
	}
	if err := os.Remove(info.PIDFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return alive, fmt.Errorf("tunnel %s: %w", name, err)
	}
	_ = os.Remove(m.logFile(name))
	return alive, nil
}

func (m *Manager) kill(info Info) {
	if !isProcess(info.PID, info.Argv) {
		return
	}
	_ = syscall.Kill(info.PID, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for isProcess(info.PID, info.Argv) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(info.PID, syscall.SIGKILL)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = os.Remove(info.PIDFile)
}
