// Package testproc makes sure a test binary leaves no process behind.
//
//	func TestMain(m *testing.M) { os.Exit(testproc.Main(m)) }
//
//	cmd := exec.Command("distccd", ...)
//	testproc.Prepare(cmd)                      // own process group, marked
//	cmd.Start()
//	t.Cleanup(func() { testproc.Stop(cmd) })   // the whole group, then Wait
//
// Main sets SIMSWARM_TEST_OWNER=<pid of the test binary> in the binary's
// own environment before the tests run, so every process the tests start
// carries it (children inherit the environment, and Prepare adds it to a
// command with an explicit one), and so do the processes those start
// (distccd's forked workers, a worker's simulations). After the tests it
// looks in /proc for live processes carrying its mark, waits a moment for
// ones being killed and for processes whose environment reads empty (one
// started just before, in the middle of its execve, cannot show its mark
// yet), and if any marked remain prints them, kills them and makes the
// binary fail. Test binaries of other packages, running in parallel
// under `go test ./...`, carry other pids and are not looked at.
//
// Guarantees: Stop signals the whole process group, not only its leader,
// and returns after the leader was reaped. Processes that drop their
// environment (containers a test dockerd runs) are not seen by Main; the
// dockerd harness finds those itself.
package testproc
