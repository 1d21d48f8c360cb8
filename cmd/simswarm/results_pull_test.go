package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simswarm/simswarm/controller/apiserver"
	"github.com/simswarm/simswarm/controller/client"
)

// TestPullRefusesACursorThatDoesNotAdvance: a server whose listing hands
// back the cursor it was given (or an earlier one) would keep the pull
// asking for the same page forever; the pull stops with an error naming it.
func TestPullRefusesACursorThatDoesNotAdvance(t *testing.T) {
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/results") {
			pages.Add(1)
			_ = json.NewEncoder(w).Encode(apiserver.ResultList{Kind: "ResultList", Items: []apiserver.ResultEntry{}, Next: 7})
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pullResults(ctx, client.New(srv.URL, "t"), "c", t.TempDir(), 2)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("pull = %v (context %v), want an error about the cursor", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "cursor") {
		t.Errorf("error %q does not say what is wrong with the listing", err)
	}
	if n := pages.Load(); n > 3 {
		t.Errorf("%d pages asked for before giving up", n)
	}
}

// TestPulledFilesHaveTheModeRunLeaves: `simswarm run` leaves result files
// as the simulation wrote them (0666 less the umask); a pulled file has the
// same mode, not CreateTemp's 0600.
func TestPulledFilesHaveTheModeRunLeaves(t *testing.T) {
	body := []byte("scalar net.host[0] rx 42\n")
	sum := sha256.Sum256(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/results"):
			_ = json.NewEncoder(w).Encode(apiserver.ResultList{Kind: "ResultList", Next: -1, Items: []apiserver.ResultEntry{
				{Run: 0, Name: "General-#0.sca", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}}})
		case strings.HasSuffix(r.URL.Path, "/results/0/General-#0.sca"):
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	st, err := pullResults(context.Background(), client.New(srv.URL, "t"), "c", dir, 2)
	if err != nil || st.downloaded != 1 {
		t.Fatalf("pull = %+v, %v", st, err)
	}
	// What a program's fopen(..., "w") makes here under this umask.
	ref, err := os.Create(filepath.Join(t.TempDir(), "ref"))
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	want, _ := os.Stat(ref.Name())
	got, err := os.Stat(filepath.Join(dir, "General-#0.sca"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode().Perm() != want.Mode().Perm() {
		t.Errorf("pulled file mode %v, want %v (as run leaves it)", got.Mode().Perm(), want.Mode().Perm())
	}
}
