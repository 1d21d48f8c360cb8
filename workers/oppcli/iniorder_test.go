package oppcli

import (
	"reflect"
	"testing"
)

// TestIniFilesInTheProgramsOrder: OMNeT++ reads every -f file first and
// the positional ini files after (src/envir/startup.cc), and the first
// value of an option in a section wins, so the order decides what runs
// and where: workers/local TestResultRootFollowsTheProgramsIniOrder shows
// it with the real program.
func TestIniFilesInTheProgramsOrder(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantInis []string
	}{
		{[]string{"./aloha", "per.ini", "-f", "flat.ini", "-f", "omnetpp.ini", "-c", "X"}, []string{"flat.ini", "omnetpp.ini", "per.ini"}},
		{[]string{"./aloha", "flat.ini", "-fper.ini", "extra.ini", "-c", "X"}, []string{"per.ini", "flat.ini", "extra.ini"}},
	} {
		inv, err := ParseInvocation(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(inv.IniFiles, tc.wantInis) {
			t.Errorf("%q: ini files %q, want the program's order %q", tc.args, inv.IniFiles, tc.wantInis)
		}
	}
}
