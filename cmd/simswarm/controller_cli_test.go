package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/manager"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

const testToken = "cli-test-token-0123456789"

// startController runs a controller in this process against a private
// redis-server and FerretDB and returns its URL and the Mongo URI.
func startController(t *testing.T) (string, string) {
	t.Helper()
	rs := testdb.StartRedis(t)
	mongoURI := testdb.StartMongo(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	cfg := manager.Config{Listen: "127.0.0.1:0", RedisURL: rs.URL(), MongoURI: mongoURI, Token: testToken,
		LeaseDuration: 2 * time.Second, Resync: 2 * time.Second, Ready: ready}
	done := make(chan error, 1)
	go func() { done <- manager.Run(ctx, cfg) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case addr := <-ready:
		t.Setenv("SIMSWARM_SERVER", "http://"+addr)
		t.Setenv("SIMSWARM_TOKEN", testToken)
		return "http://" + addr, mongoURI
	case err := <-done:
		t.Fatalf("controller did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("controller did not start")
	}
	return "", ""
}

// cli runs one simswarm command line and returns stdout and the error.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cli(t, args...)
	if err != nil {
		t.Fatalf("simswarm %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func writeManifest(t *testing.T, dir, name string) string {
	t.Helper()
	src := filepath.Join(dir, "model")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "Makefile"), []byte("all:\n\ttrue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The program lists the config's 9 runs (the contract worker reads them
	// from this ini; see TestRealOMNeTppCampaignHasTheProgramsRuns for the
	// real program), and the filter of run numbers selects among them.
	ini := "[General]\nrepeat = 3\n[Config PureAloha]\n**.numHosts = ${numHosts=10,15,20}\n"
	if err := os.WriteFile(filepath.Join(src, "omnetpp.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	m := `apiVersion: simswarm.io/v1alpha1
kind: Campaign
metadata:
  name: ` + name + `
spec:
  source:
    path: model
  simulation:
    program: ["./aloha"]
    config: PureAloha
    runs: "0..5"
`
	p := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLICampaignLifecycle(t *testing.T) {
	_, mongoURI := startController(t)
	dir := t.TempDir()
	manifest := writeManifest(t, dir, "aloha")
	if out := mustCLI(t, "apply", "-f", manifest); !strings.Contains(out, "campaign/aloha created") {
		t.Fatalf("apply: %q", out)
	}
	// Applying again is a no-op update with the same uploaded archive.
	if out := mustCLI(t, "apply", "-f", manifest); !strings.Contains(out, "campaign/aloha configured") {
		t.Fatalf("re-apply: %q", out)
	}
	st, err := store.Open(context.Background(), mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(context.Background())
	c, err := st.Get(context.Background(), "aloha")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.HasSource(context.Background(), c.Spec.Source.Archive); !ok || c.Metadata.Generation != 1 {
		t.Fatalf("source archive %q not stored or generation %d", c.Spec.Source.Archive, c.Metadata.Generation)
	}
	// The controller reconciles: run records and a build record appear.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got api.Campaign
		out := mustCLI(t, "get", "campaigns", "aloha", "-o", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("get -o json: %v\n%s", err, out)
		}
		if got.Status.Phase == api.PhaseBuilding && got.Status.Runs.Total == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign not reconciled: %+v", got.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := mustCLI(t, "get", "campaigns"); !strings.Contains(out, "aloha") || !strings.Contains(out, "Building") {
		t.Fatalf("get: %q", out)
	}
	if out := mustCLI(t, "get", "campaigns", "-o", "wide"); !strings.Contains(out, "PRIORITY") {
		t.Fatalf("get -o wide: %q", out)
	}
	if out := mustCLI(t, "get", "campaigns", "-o", "yaml"); !strings.Contains(out, "name: aloha") {
		t.Fatalf("get -o yaml: %q", out)
	}
	if out := mustCLI(t, "describe", "campaign", "aloha"); !strings.Contains(out, "Reconciling") || !strings.Contains(out, "total 6") {
		t.Fatalf("describe: %q", out)
	}
	mustCLI(t, "suspend", "aloha")
	if c, _ := st.Get(context.Background(), "aloha"); !c.Spec.Suspend {
		t.Fatal("suspend not recorded")
	}
	mustCLI(t, "resume", "aloha")
	// Right after resume, the reconciler's status write races the delete's
	// mark (on FerretDB one could undo the other): the delete must hold.
	if _, err := cli(t, "delete", "campaign", "aloha", "--timeout", "30s"); err != nil {
		out, _ := cli(t, "get", "campaigns", "aloha", "-o", "yaml")
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if _, err := cli(t, "get", "campaigns", "aloha"); err == nil {
		t.Fatal("deleted campaign still there")
	}
	// Bad manifests exit with status 2.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: Bad_Name}\nspec: {}\n"), 0o644)
	_, err = cli(t, "apply", "-f", bad)
	var ex *exitError
	if err == nil || !asExit(err, &ex) || ex.code != 2 {
		t.Fatalf("invalid manifest: %v, want exit status 2", err)
	}
	// No token: refused.
	t.Setenv("SIMSWARM_TOKEN", "wrong")
	if _, err := cli(t, "get", "campaigns"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
}

func asExit(err error, ex **exitError) bool {
	e, ok := err.(*exitError)
	if ok {
		*ex = e
	}
	return ok
}

// storeResult puts one result file into GridFS and returns its record.
func storeResult(t *testing.T, st *store.Store, name string, data []byte) schema.ResultFile {
	t.Helper()
	b := st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	id, err := b.UploadFromStream(context.Background(), "x/"+name, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return schema.ResultFile{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), FileID: id}
}

func TestResultsPullIsVerifiedResumableAndRefusesHostileNames(t *testing.T) {
	_, mongoURI := startController(t)
	ctx := context.Background()
	st, err := store.Open(ctx, mongoURI)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	c, err := st.Create(ctx, &api.Campaign{Metadata: api.ObjectMeta{Name: "res"},
		Spec: api.CampaignSpec{Suspend: true, Source: api.SourceSpec{Archive: "x"}, Simulation: api.SimulationSpec{Program: []string{"x"}, Runs: "0..1"}}})
	if err != nil {
		t.Fatal(err)
	}
	good := storeResult(t, st, "PureAloha-#0.sca", []byte("scalar 1\n"))
	evil1 := storeResult(t, st, "../evil.sca", []byte("evil"))
	evil2 := storeResult(t, st, "/tmp/evil-abs.sca", []byte("evil"))
	runs := st.DB.Collection(schema.CollRuns)
	for i, files := range [][]schema.ResultFile{{good}, {evil1, evil2}} {
		rec := schema.RunRecord{ID: store.RunID("res", c.Metadata.UID, i), Campaign: "res", UID: c.Metadata.UID, Run: i,
			State: schema.RunSucceeded, Files: files, UpdatedAt: time.Now()}
		if _, err := runs.InsertOne(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "a", "results")
	_, err = cli(t, "results", "pull", "res", "-o", out)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("hostile names not refused: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "..", "evil.sca")); !os.IsNotExist(err) {
		t.Fatal("a file was written outside the output directory")
	}
	if _, err := os.Stat("/tmp/evil-abs.sca"); err == nil {
		t.Fatal("a file was written at an absolute stored path")
	}
	got, err := os.ReadFile(filepath.Join(out, "PureAloha-#0.sca"))
	if err != nil || string(got) != "scalar 1\n" {
		t.Fatalf("good file: %q %v", got, err)
	}
	// Resumable: present and right -> skipped; corrupted -> fetched again.
	o, _ := cli(t, "results", "pull", "res", "-o", out)
	if !strings.Contains(o, "0 files downloaded, 1 already present") {
		t.Fatalf("second pull: %q", o)
	}
	os.WriteFile(filepath.Join(out, "PureAloha-#0.sca"), []byte("corrupt"), 0o644)
	o, _ = cli(t, "results", "pull", "res", "-o", out)
	if !strings.Contains(o, "1 files downloaded") {
		t.Fatalf("pull after corruption: %q", o)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "PureAloha-#0.sca")); string(got) != "scalar 1\n" {
		t.Fatalf("corrupted file not restored: %q", got)
	}
}

// TestAManifestInsideItsSourceIsNotPartOfIt: examples/aloha keeps its
// campaign.yaml in the model's directory (source.path: .). Editing the
// manifest - more runs - and applying it again must upload no new source:
// a new one would mean a new build and no run reused.
func TestAManifestInsideItsSourceIsNotPartOfIt(t *testing.T) {
	startController(t)
	model := filepath.Join(t.TempDir(), "model")
	writeManifest(t, filepath.Dir(model), "inside")
	manifest := filepath.Join(model, "campaign.yaml")
	write := func(runs string) {
		t.Helper()
		m := "apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata:\n  name: inside\nspec:\n  source:\n    path: .\n" +
			"  simulation:\n    program: [\"./aloha\"]\n    config: PureAloha\n    runs: \"" + runs + "\"\n"
		if err := os.WriteFile(manifest, []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	archive := func() string {
		t.Helper()
		var got api.Campaign
		out := mustCLI(t, "get", "campaigns", "inside", "-o", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("get -o json: %v\n%s", err, out)
		}
		return got.Spec.Source.Archive
	}
	write("0..5")
	mustCLI(t, "apply", "-f", manifest)
	first := archive()
	write("0..8")
	if out := mustCLI(t, "apply", "-f", manifest); strings.Contains(out, "uploaded") {
		t.Fatalf("the edited manifest uploaded a new source: %q", out)
	}
	if got := archive(); got != first || first == "" {
		t.Fatalf("source archive %q after the manifest's edit, %q before", got, first)
	}
}
