package resultbackfill

import (
	"os"
	"testing"

	"github.com/simswarm/simswarm/test/testproc"
)

// TestMain fails the package if a process its tests started outlives them.
func TestMain(m *testing.M) { os.Exit(testproc.Main(m)) }
