package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/infra/tunnel"
	dockertest "github.com/simswarm/simswarm/test/dockerd"
	"github.com/simswarm/simswarm/test/freeport"
	mototest "github.com/simswarm/simswarm/test/moto"
	sshdtest "github.com/simswarm/simswarm/test/sshd"
)

// Credentials for moto, shaped like real ones so a leak would be visible.
const (
	clusterTestKeyID  = "AKIAIOSFODNN7CLITEST"
	clusterTestSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCLITESTKEY"
)

// runCluster runs the CLI in-process with stdin and returns stdout+stderr.
func runCluster(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// clusterEnv points the AWS SDK at moto with test credentials and the
// config and runtime directories at the test's own.
func clusterEnv(t *testing.T) (motoURL, configDir, runtimeDir string) {
	t.Helper()
	m := mototest.Start(t)
	configDir, runtimeDir = t.TempDir(), t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": clusterTestKeyID, "AWS_SECRET_ACCESS_KEY": clusterTestSecret, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(configDir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(configDir, "none"), "AWS_EC2_METADATA_DISABLED": "true",
		"XDG_CONFIG_HOME": configDir, "XDG_RUNTIME_DIR": runtimeDir,
	} {
		t.Setenv(k, v)
	}
	return m.URL, configDir, runtimeDir
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// TestClusterAWSCommands walks the whole life of a cluster through the
// command line against moto_server and a real sshd standing in for the
// manager: dry run, a declined and an accepted up, status, halt, resume,
// connect (forwards to HTTP servers behind sshd, PID file, reuse),
// disconnect, destroy twice.
func TestClusterAWSCommands(t *testing.T) {
	moto, configDir, runtimeDir := clusterEnv(t)
	// No ssh outlives the test, also when it fails.
	t.Cleanup(func() { _, _ = (&tunnel.Manager{Dir: filepath.Join(runtimeDir, "simswarm")}).Disconnect("aws-cli") })
	aws := []string{"cluster", "aws", "--name", "cli", "--endpoint-url", moto}
	cmd := func(sub string, args ...string) []string {
		return append(append([]string{"cluster", "aws", sub}, aws[2:]...), args...)
	}
	up := cmd("up", "--ssh-cidr", "203.0.113.7/32", "--workers", "1", "--instance-type", "t3.small")

	out, err := runCluster(t, "", append(up, "--dry-run")...)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	mustContain(t, "dry run", out, "create  key pair simswarm-cli", "create  auto scaling group simswarm-cli-workers (1 x t3.small)",
		"estimated $0.0416 per hour", "dry run: nothing was changed")
	if out, err := runCluster(t, "", cmd("status")...); err == nil || !strings.Contains(err.Error(), "nothing found") {
		t.Fatalf("status after the dry run: %v\n%s", err, out)
	}

	out, err = runCluster(t, "n\n", up...)
	if err == nil || !strings.Contains(err.Error(), "aborted: nothing was changed") {
		t.Fatalf("declined up: %v\n%s", err, out)
	}
	mustContain(t, "declined up", out, "Make these 20 changes? [y/N]")
	if _, err := runCluster(t, "", cmd("status")...); err == nil {
		t.Fatal("a declined up created resources")
	}

	out, err = runCluster(t, "y\n", up...)
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	key := filepath.Join(configDir, "simswarm", "aws", "cli", "id_ed25519")
	mustContain(t, "up", out, "private key saved to "+key, "manager i-", "simswarm cluster aws connect --name cli")
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	out, err = runCluster(t, "", up...)
	if err != nil {
		t.Fatalf("second up: %v\n%s", err, out)
	}
	mustContain(t, "second up", out, "nothing to change")

	out, err = runCluster(t, "", cmd("status")...)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	mustContain(t, "status", out, "cluster cli in us-east-1", "running", "workers  1 running, 1 wanted now, 1 set by up",
		"swarm    not yet initialized", "idle     alarm OK", "tunnel   not connected")

	out, err = runCluster(t, "", cmd("halt")...)
	mustContain(t, "halt", out, "stop    instance", "workers to 0")
	if err != nil {
		t.Fatal(err)
	}
	if out, err = runCluster(t, "", cmd("connect")...); err == nil || !strings.Contains(err.Error(), "simswarm cluster aws resume") {
		t.Fatalf("connect to a halted cluster: %v\n%s", err, out)
	}
	out, err = runCluster(t, "", cmd("resume")...)
	mustContain(t, "resume", out, "start   instance", "workers to 1")
	if err != nil {
		t.Fatal(err)
	}

	// The manager is the local sshd; behind it the "controller" and the
	// "engine" are test HTTP servers.
	s := sshdtest.Start(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "controller") }))
	defer api.Close()
	remoteSock := filepath.Join(t.TempDir(), "engine.sock")
	ul, err := net.Listen("unix", remoteSock)
	if err != nil {
		t.Fatal(err)
	}
	engine := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "engine") })}
	go engine.Serve(ul)
	defer engine.Close()
	localPort := freeport.Port(t)
	connect := cmd("connect", "--address", s.Host, "--ssh-port", strconv.Itoa(s.Port), "--ssh-user", s.User, "--identity", s.ClientKey,
		"--local-port", strconv.Itoa(localPort), "--remote-port", api.URL[strings.LastIndex(api.URL, ":")+1:], "--remote-docker-socket", remoteSock)
	out, err = runCluster(t, "", connect...)
	if err != nil {
		t.Fatalf("connect: %v\n%s\n%s", err, out, s.LogTail())
	}
	sock := filepath.Join(runtimeDir, "simswarm", "aws-cli-docker.sock")
	mustContain(t, "connect", out, "tunnel up (ssh pid", "http://127.0.0.1:"+strconv.Itoa(localPort), "export DOCKER_HOST=unix://"+sock)
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(localPort) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "controller" {
		t.Fatalf("through the tunnel: %q", body)
	}
	uc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	if resp, err := uc.Get("http://docker/_ping"); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "engine" {
			t.Fatalf("through the socket: %q", body)
		}
	}
	// The first key the manager presented is recorded under the alias.
	kh, _ := os.ReadFile(filepath.Join(configDir, "simswarm", "aws", "cli", "known_hosts"))
	if !strings.Contains(string(kh), strings.Fields(s.HostKey)[1]) {
		t.Errorf("known_hosts does not hold the host key:\n%s", kh)
	}
	m := tunnel.Manager{Dir: filepath.Join(runtimeDir, "simswarm")}
	info, alive, err := m.Status("aws-cli")
	if err != nil || !alive {
		t.Fatalf("PID file in the runtime directory: %+v %v %v", info, alive, err)
	}
	if _, err := os.Stat(remoteSock); err != nil {
		t.Fatalf("remote socket before the second connect: %v", err)
	}
	out, err = runCluster(t, "", connect...)
	if err != nil || !strings.Contains(out, "tunnel already running (ssh pid "+strconv.Itoa(info.PID)+")") {
		t.Fatalf("second connect: %v\n%s", err, out)
	}
	out, _ = runCluster(t, "", cmd("status")...)
	mustContain(t, "status while connected", out, "tunnel   connected (ssh pid "+strconv.Itoa(info.PID))

	out, err = runCluster(t, "", cmd("disconnect")...)
	if err != nil || !strings.Contains(out, "tunnel closed (ssh pid "+strconv.Itoa(info.PID)+")") {
		t.Fatalf("disconnect: %v\n%s", err, out)
	}
	if !sshdtest.ProcessGone(info.PID) {
		t.Fatalf("ssh %d still runs", info.PID)
	}
	if out, _ := runCluster(t, "", cmd("disconnect")...); !strings.Contains(out, "no tunnel running") {
		t.Errorf("second disconnect: %s", out)
	}

	out, err = runCluster(t, "no\n", cmd("destroy")...)
	if err == nil || !strings.Contains(err.Error(), "aborted: nothing was deleted") {
		t.Fatalf("declined destroy: %v\n%s", err, out)
	}
	out, err = runCluster(t, "", cmd("destroy", "--yes")...)
	if err != nil {
		t.Fatalf("destroy: %v\n%s", err, out)
	}
	mustContain(t, "destroy", out, "delete  auto scaling group simswarm-cli-workers", "delete  security group simswarm-cli", "delete  IAM role simswarm-cli-worker",
		"removed "+filepath.Join(configDir, "simswarm", "aws", "cli"))
	if _, err := os.Stat(key); !os.IsNotExist(err) {
		t.Errorf("private key after destroy: %v", err)
	}
	out, err = runCluster(t, "", cmd("destroy", "--yes")...)
	if err != nil || !strings.Contains(out, "nothing left to delete") {
		t.Fatalf("second destroy: %v\n%s", err, out)
	}
	if _, err := runCluster(t, "", cmd("status")...); err == nil {
		t.Error("status finds the destroyed cluster")
	}
}

// TestClusterAWSErrorsAreOneLine: what users hit most - no credentials, a
// type the region lacks, bad flags - is one line, exit status 2 for bad
// input, and never shows the credentials.
func TestClusterAWSErrorsAreOneLine(t *testing.T) {
	moto, _, _ := clusterEnv(t)
	base := []string{"cluster", "aws", "up", "--name", "err", "--endpoint-url", moto, "--ssh-cidr", "203.0.113.7/32", "--yes"}
	check := func(what string, err error, out, want string, code int) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error\n%s", what, out)
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || strings.Contains(msg, "\n") || strings.Contains(msg, "operation error") {
			t.Errorf("%s: %q, want one line with %q", what, msg, want)
		}
		if strings.Contains(msg+out, clusterTestKeyID) || strings.Contains(msg+out, clusterTestSecret) {
			t.Errorf("%s: credentials in the output", what)
		}
		got := 1
		var ex *exitError
		if errors.As(err, &ex) {
			got = ex.code
		}
		if got != code {
			t.Errorf("%s: exit status %d, want %d", what, got, code)
		}
	}
	out, err := runCluster(t, "", append(base, "--region", "eu-central-1", "--instance-type", "p5.48xlarge")...)
	check("type not offered", err, out, "instance type p5.48xlarge is not offered in region eu-central-1", 1)
	out, err = runCluster(t, "", append(base, "--ssh-cidr", "everyone")...)
	check("bad cidr", err, out, `ssh cidr: "everyone"`, 2)
	out, err = runCluster(t, "", append(base, "--name", "Not_A_Name")...)
	check("bad name", err, out, `cluster name "Not_A_Name"`, 2)

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	out, err = runCluster(t, "", base...)
	check("no credentials", err, out, "check AWS credentials: no AWS credentials found", 1)
}

// TestClusterLocalCommands: init on a fresh engine prints a working join
// command and is a no-op the second time; join refuses bad input and
// recognises a node that already is in a swarm. A private dockerd.
func TestClusterLocalCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private dockerd")
	}
	d := dockertest.Start(t)
	d.Leave(t)
	t.Setenv("DOCKER_HOST", d.Host)
	addr := "127.0.0.1:" + strconv.Itoa(freeport.Port(t))
	out, err := runCluster(t, "", "cluster", "local", "init", "--listen-addr", addr, "--advertise-addr", addr, "--data-path-port", strconv.Itoa(23000+os.Getpid()%20000))
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	mustContain(t, "init", out, "this machine is now a swarm manager", "simswarm cluster local join --token SWMTKN-1-", " "+addr+"\n", "simswarm stack deploy")
	token := out[strings.Index(out, "SWMTKN-1-"):]
	token = token[:strings.IndexAny(token, " \n")]
	out, err = runCluster(t, "", "cluster", "local", "init")
	if err != nil || !strings.Contains(out, "already is a swarm manager") || !strings.Contains(out, token) {
		t.Fatalf("second init: %v\n%s", err, out)
	}
	if _, err := runCluster(t, "", "cluster", "local", "join", addr); err == nil || !strings.Contains(err.Error(), "no join token") {
		t.Errorf("join without a token: %v", err)
	}
	if _, err := runCluster(t, "", "cluster", "local", "join", "--token", "nope", addr); err == nil || strings.Contains(err.Error(), "nope") {
		t.Errorf("join with a bad token: %v", err)
	}
	t.Setenv("SIMSWARM_JOIN_TOKEN", token)
	out, err = runCluster(t, "", "cluster", "local", "join", addr)
	if err != nil || !strings.Contains(out, "already is in a swarm") {
		t.Errorf("join on a swarm member: %v\n%s", err, out)
	}
}
