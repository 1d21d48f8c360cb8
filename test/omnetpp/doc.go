// Package omnetpp finds the real OMNeT++ 6.1.0 that the tests run simswarm
// against (opp_run, opp_runall and the aloha, tictoc and fifo samples), and
// hands each test a private copy of a sample.
//
//	omn := omnetpp.Find(t)               // skips (fails in CI) when there is none
//	dir := omn.Sample(t, "aloha")        // a copy in t.TempDir(), built program included
//	omn.SampleAt(t, "fifo", model)       // a copy at a path of the test's choice
//	omn.Setenv(t)                        // what the test starts finds OMNeT++ (PATH, LD_LIBRARY_PATH)
//	cmd := exec.Command("opp_runall", "-j2", "./aloha", "-c", "PureAlohaExperiment")
//	cmd.Dir, cmd.Env = dir, omn.Env()
//
// Where it looks: $SIMSWARM_OMNETPP_ROOT, else DefaultRoot, which `make
// omnetpp` (a prerequisite of `make test`) fills with
// ../shared/omnetpp/build.sh. An installation counts only when its samples
// are built. With none, a test fails when $CI is set and is skipped
// otherwise, with the command that builds it.
//
// Guarantees: the installation is never written to; Sample copies the
// sources and the built program (not the object files) so that a test's
// results land in its own temporary directory.
package omnetpp
