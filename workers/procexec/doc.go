// Package procexec runs one external program the way a simulation campaign
// needs it: argv only (never a shell), in its own process group, with a
// timeout, a bounded tail of its stderr, and its CPU time.
//
//	res := procexec.Run(ctx, procexec.Cmd{Argv: []string{"./aloha", "-r", "3"}, Dir: dir, Timeout: time.Hour})
//	if !res.Success() { fmt.Println(res.Describe(), res.StderrTail) }
//
// Guarantees: when the timeout passes or ctx is cancelled, the whole process
// group (the program and everything it started) gets SIGTERM, then SIGKILL
// after a short grace period, and Run returns only after the program has
// exited; the stderr tail never holds more than TailBytes. If the calling
// process dies, however it dies (SIGKILL included), the program gets
// SIGKILL from the kernel (parent-death signal) instead of running on with
// parent 1. That signal reaches the program only, not what it started:
// workers also mark their programs' environment (workdir.EnvVar) so the
// next worker on the host can find and stop such leftovers. With Combined,
// stdout and stderr share one pipe, so their lines keep their order.
package procexec
