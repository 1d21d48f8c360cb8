package runner

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailureKindsTellDeterministicFromFlaky: attempts failing with the
// same program error leave one failure kind on the record, attempts
// failing differently one each, and a program error is part of the kind
// while what Cmdenv prints around it is not.
func TestFailureKindsTellDeterministicFromFlaky(t *testing.T) {
	db := setup(t, "[General]\n")
	counter := filepath.Join(t.TempDir(), "n")
	setupScript(t, db, `n=$(cat `+counter+` 2>/dev/null || echo 0); echo $((n+1)) > `+counter+`
echo "progress $n"
case " $* " in
*" -r 0 "*) echo "<!> Error: the same each time" >&2;;
*) echo "<!> Error: attempt $n" >&2;;
esac
exit 1`)
	ctx := context.Background()
	for _, run := range []int{0, 0, 1, 1} {
		if err := handler(t, db, t.TempDir()).ProcessTask(ctx, scriptTask(t, db, run)); err != nil {
			t.Fatal(err)
		}
	}
	if k := record(t, db, 0).FailureKinds; len(k) != 1 || !strings.Contains(k[0], "<!> Error: the same each time") {
		t.Errorf("run 0 failed the same way twice: kinds %q, want one with the program's error", k)
	}
	if k := record(t, db, 1).FailureKinds; len(k) != 2 {
		t.Errorf("run 1 failed two ways: kinds %q", k)
	}
}
