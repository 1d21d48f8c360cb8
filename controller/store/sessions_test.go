package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

// TestSessionRevocationsAreSharedAndPrunedAfterExpiry: a revocation made
// through one connection is seen through another (another controller),
// and is forgotten only once the session has expired.
func TestSessionRevocationsAreSharedAndPrunedAfterExpiry(t *testing.T) {
	ctx := context.Background()
	uri := testdb.StartMongo(t)
	a, err := store.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := store.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	exp := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := a.RevokeSession(ctx, "s1", exp); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeSession(ctx, "s1", exp); err != nil { // twice is fine
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"s1", true}, {"s2", false}} {
		if got, err := b.SessionRevoked(ctx, tc.id); err != nil || got != tc.want {
			t.Fatalf("revoked(%s) = %v %v, want %v", tc.id, got, err, tc.want)
		}
	}
	if err := b.PruneSessionRevocations(ctx, exp.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.SessionRevoked(ctx, "s1"); !got {
		t.Fatal("pruned before the session expired")
	}
	if err := b.PruneSessionRevocations(ctx, exp.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.SessionRevoked(ctx, "s1"); got {
		t.Fatal("kept after the session expired")
	}
}
