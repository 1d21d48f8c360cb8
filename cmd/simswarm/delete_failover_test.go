package main

import (
	"context"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

// A controller process SIGKILLed in the middle of deleting a big campaign
// leaves the delete half done; the next controller finishes it from what
// the store holds.
func TestDeleteFinishedByTheNextControllerAfterSIGKILL(t *testing.T) {
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	tok := writeToken(t)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	const n = 3 * store.DeleteBatch
	cp := gitCampaign("big", "0..59999")
	cp.Spec.Suspend = true
	c, err := st.Create(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]int, n)
	for i := range runs {
		runs[i] = i
	}
	if _, err := st.CreateRuns(ctx, "big", c.Metadata.UID, runs); err != nil {
		t.Fatal(err)
	}
	left := func() int64 {
		k, err := st.DB.Collection(schema.CollRuns).CountDocuments(ctx, bson.M{"campaign": "big"})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	a := startControllerProc(t, rs.URL(), mongoURI, tok)
	ca := client.New("http://"+a.addr, testToken)
	if _, err := ca.DeleteCampaign(ctx, "big", false); err != nil {
		t.Fatal(err)
	}
	// Kill it once it has written progress, before it is done.
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		got, err := ca.Get(ctx, "big")
		if err != nil {
			t.Fatalf("campaign gone before the controller could be killed half way: %v", err)
		}
		if got.Status.Phase == api.PhaseDeleting && got.Status.Deletion != nil && got.Status.Deletion.RunsRemoved > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no deletion progress in the status: %+v", got.Status)
		}
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	half := left()
	if half == 0 || half == n {
		t.Fatalf("%d of %d records left when the controller was killed: not half way", half, n)
	}
	t.Logf("controller killed with %d of %d run records left", half, n)

	b := startControllerProc(t, rs.URL(), mongoURI, tok)
	cb := client.New("http://"+b.addr, testToken)
	start := time.Now()
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, err := cb.Get(ctx, "big")
		if client.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the next controller did not finish the delete: %v, %d records left", err, left())
		}
	}
	t.Logf("the next controller finished the delete in %v", time.Since(start))
	if k := left(); k != 0 {
		t.Fatalf("%d run records left", k)
	}
	set, err := cb.ResultSet(ctx, c.Metadata.UID)
	if err != nil || set.Name != "big" || set.State != schema.ResultSetKept {
		t.Fatalf("result set after the finished delete: %+v %v", set, err)
	}
}
