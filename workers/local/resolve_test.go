package local

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/simswarm/simswarm/test/omnetpp"
	"github.com/simswarm/simswarm/workers/oppcli"
)

// Naming the runs of a big sweep costs the program time linear in its
// runs: OMNeT++ 6.1 answers -q runconfig for all runs in quadratic time
// (about 46 s for 10,005 aloha runs on a quiet machine here, a quarter of
// an hour for 100,000), so Resolve must not ask it that way. 20,005 runs
// take well under a second with -q rundetails.
func TestResolveOfTwentyThousandRunsTakesSeconds(t *testing.T) {
	omn := omnetpp.Find(t)
	dir := omn.Sample(t, "aloha")
	f, err := os.OpenFile(filepath.Join(dir, "omnetpp.ini"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n[Big]\nextends = PureAloha1\nrepeat = 5\nseed-set = ${repetition}\n**.x = ${x=1..4001}m\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	inv, err := oppcli.ParseInvocation([]string{"./aloha", "-c", "Big"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Resolve(context.Background(), inv, dir, omn.Env(), []string{filepath.Join(dir, "results")})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 20005 || len(res.Identities) != 20005 {
		t.Fatalf("%d runs, %d identities", len(res.Runs), len(res.Identities))
	}
	ids := map[string]bool{}
	for _, id := range res.Identities {
		ids[id] = true
	}
	if len(ids) != 20005 {
		t.Fatalf("%d distinct identities of 20005 runs", len(ids))
	}
	if took > 20*time.Second {
		t.Fatalf("resolving 20,005 runs took %v", took)
	}
	t.Logf("resolved 20,005 runs in %v", took)
}
