package scale

import (
	"os"
	"testing"

	"github.com/simswarm/simswarm/test/testproc"
)

// TestMain: the controller of a harness is this binary started again
// (ControllerMain); the binary fails if a process it started outlives it.
func TestMain(m *testing.M) {
	ControllerMain()
	os.Exit(testproc.Main(m))
}
