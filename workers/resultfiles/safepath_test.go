package resultfiles

import (
	"strings"
	"testing"
)

// TestSafePathRefusesHostilePaths: SafePath is the one rule for a stored
// result name (the runner and the local executor store by it, results
// pull writes by it). Every way out of a directory, every name that is
// not one plain file name per element, and paths too long for a
// filesystem are refused; relative paths of plain names are kept.
func TestSafePathRefusesHostilePaths(t *testing.T) {
	for _, name := range []string{
		"", ".", "..", "../x.sca", "a/../../x.sca", "a/..", "/etc/passwd", "/x.sca",
		`..\x.sca`, `a\b.sca`, `C:\x.sca`, "a\x00b.sca", "a/\x00/b",
		"a//b.sca", "a/./b.sca", "./a.sca", "a/", "/",
		".simswarm", ".simswarm-part-1", "a/.simswarm/b.sca",
		strings.Repeat("n", 256), "a/" + strings.Repeat("n", 256), strings.Repeat("d/", 2048) + "x.sca",
	} {
		if SafePath(name) {
			t.Errorf("SafePath(%.60q) = true", name)
		}
	}
	for _, name := range []string{
		"General-#0.sca", "Cfg/x=1,y=2-#0.vec", "a..b.vec", "run #3.vci", "..a.sca", ".hidden.sca",
		strings.Repeat("n", 255), strings.Repeat("d/", 2040) + "x.sca",
	} {
		if !SafePath(name) {
			t.Errorf("SafePath(%.60q) = false", name)
		}
	}
}
