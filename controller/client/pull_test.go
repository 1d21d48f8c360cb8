package client

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simswarm/simswarm/api/wire"
)

// TestPullRefusesACursorThatDoesNotAdvance: a server whose listing hands
// back the cursor it was given (or an earlier one) would keep the pull
// asking for the same page forever; the pull stops with an error naming it.
func TestPullRefusesACursorThatDoesNotAdvance(t *testing.T) {
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/results") {
			pages.Add(1)
			_ = json.NewEncoder(w).Encode(wire.ResultList{Kind: "ResultList", Items: []wire.ResultEntry{}, Next: 7})
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(srv.URL, "t").PullResults(ctx, "c", t.TempDir(), 2)
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
			_ = json.NewEncoder(w).Encode(wire.ResultList{Kind: "ResultList", Next: -1, Items: []wire.ResultEntry{
				{Run: 0, Name: "General-#0.sca", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}}})
		case strings.HasSuffix(r.URL.Path, "/results/0/General-#0.sca"):
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	st, err := New(srv.URL, "t").PullResults(context.Background(), "c", dir, 2)
	if err != nil || st.Downloaded != 1 {
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

// TestPullRefusesABatchEntryItDidNotAskFor: a batch download's archive
// may hold only the files asked for, at their listed sizes; anything else
// (here an entry climbing out of the results directory) fails the pull
// and is not written.
func TestPullRefusesABatchEntryItDidNotAskFor(t *testing.T) {
	files := map[string][]byte{"a.sca": []byte("scalar a\n"), "b.sca": []byte("scalar b\n")}
	var items []wire.ResultEntry
	for _, n := range []string{"a.sca", "b.sca"} {
		sum := sha256.Sum256(files[n])
		items = append(items, wire.ResultEntry{Run: 0, Name: n, Size: int64(len(files[n])), SHA256: hex.EncodeToString(sum[:])})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/results"):
			_ = json.NewEncoder(w).Encode(wire.ResultList{Kind: "ResultList", Next: -1, Items: items})
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/results/0"):
			tw := tar.NewWriter(w)
			for _, n := range []string{"a.sca", "../evil.sca"} {
				_ = tw.WriteHeader(&tar.Header{Name: n, Size: int64(len(files["a.sca"])), Mode: 0o644, Typeflag: tar.TypeReg})
				_, _ = tw.Write(files["a.sca"])
			}
			_ = tw.Close()
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	parent := t.TempDir()
	dir := filepath.Join(parent, "results")
	_, err := New(srv.URL, "t").PullResults(context.Background(), "c", dir, 2)
	if err == nil || !strings.Contains(err.Error(), "not asked for") {
		t.Fatalf("pull = %v, want a refusal of the entry not asked for", err)
	}
	if _, err := os.Stat(filepath.Join(parent, "evil.sca")); !os.IsNotExist(err) {
		t.Errorf("the entry outside the results directory was written: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a.sca")); err != nil || string(b) != "scalar a\n" {
		t.Errorf("a.sca: %q, %v", b, err)
	}
}

// TestPullRefusesHostileNamesAndKeepsLongOnes: every name a server lists
// is hostile. Names that climb out (.., absolute, a backslash that is a
// separator elsewhere), hide a NUL, hide among simswarm's own files
// (.simswarm) or are longer than a file name can be are refused, each
// named in the error, and nothing is written for them anywhere; the
// good files of the same listing are pulled, the longest legal name too.
func TestPullRefusesHostileNamesAndKeepsLongOnes(t *testing.T) {
	longBase := strings.Repeat("n", 251) + ".sca" // 255 bytes: the longest file name
	good := []string{"General-#0.sca", "Cfg/x=1,y=2-#0.vec", longBase}
	hostile := []string{"../evil.sca", "Cfg/../../evil2.sca", "/tmp/simswarm-evil-abs.sca", `..\evil3.sca`, "a\x00b.sca",
		".simswarm-evil", "", ".", "a//b.sca", strings.Repeat("m", 256) + ".sca", strings.Repeat("d/", 2100) + "deep.sca"}
	body := func(name string) []byte { return []byte("scalar " + strconv.Quote(name) + "\n") }
	var items []wire.ResultEntry
	for _, n := range append(append([]string{}, good...), hostile...) {
		sum := sha256.Sum256(body(n))
		items = append(items, wire.ResultEntry{Run: 0, Name: n, Size: int64(len(body(n))), SHA256: hex.EncodeToString(sum[:])})
	}
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				const results = "/campaigns/c/results"
				p := strings.TrimPrefix(r.URL.Path, wire.Prefix)
				switch {
				case r.Method == http.MethodGet && p == results:
					_ = json.NewEncoder(w).Encode(wire.ResultList{Kind: "ResultList", Next: -1, Items: items})
				case r.Method == http.MethodPost && p == results+"/0" && batched:
					var req wire.ResultBatchRequest
					_ = json.NewDecoder(r.Body).Decode(&req)
					tw := tar.NewWriter(w)
					for _, n := range req.Names {
						_ = tw.WriteHeader(&tar.Header{Name: n, Size: int64(len(body(n))), Mode: 0o644, Typeflag: tar.TypeReg})
						_, _ = tw.Write(body(n))
					}
					_ = tw.Close()
				case r.Method == http.MethodGet && strings.HasPrefix(p, results+"/0/"):
					_, _ = w.Write(body(strings.TrimPrefix(p, results+"/0/")))
				default:
					w.WriteHeader(http.StatusNotFound)
					_ = json.NewEncoder(w).Encode(wire.Status{Kind: "Status", Code: 404, Reason: "NotFound", Message: "no such endpoint"})
				}
			}))
			defer srv.Close()
			parent := t.TempDir()
			dir := filepath.Join(parent, "results")
			st, err := New(srv.URL, "t").PullResults(context.Background(), "c", dir, 2)
			if err == nil {
				t.Fatal("pull of hostile names succeeded")
			}
			for _, n := range hostile {
				if !strings.Contains(err.Error(), strconv.Quote(n)+" refused") {
					t.Errorf("name %q not refused by name in: %v", n, err)
				}
			}
			if st.Downloaded != len(good) {
				t.Errorf("%d files downloaded, want the %d good ones (error: %v)", st.Downloaded, len(good), err)
			}
			for _, n := range good {
				if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n))); err != nil || string(b) != string(body(n)) {
					t.Errorf("good file %.40q: %q, %v", n, b, err)
				}
			}
			// Nothing but the good files (and their directories), anywhere.
			var found []string
			_ = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					found = append(found, filepath.ToSlash(rel))
				}
				return nil
			})
			sort.Strings(found)
			want := append([]string{}, good...)
			sort.Strings(want)
			if !reflect.DeepEqual(found, want) {
				t.Errorf("files written: %.200q, want only %.200q", found, want)
			}
			if _, err := os.Stat("/tmp/simswarm-evil-abs.sca"); err == nil {
				t.Error("a file was written at an absolute stored path")
			}
		})
	}
}
