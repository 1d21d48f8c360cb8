package apiserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/apiserver"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/test/testdb"
)

const token = "s3cret-token-0123456789"

func start(t *testing.T) (*client.Client, *store.Store, *[]string) {
	t.Helper()
	st, err := store.Open(context.Background(), testdb.StartMongo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	var notified []string
	srv := &apiserver.Server{Store: st, Token: token, MaxSourceBytes: 1 << 16,
		Notify: func(n string) { notified = append(notified, n) }}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return client.New(hs.URL, token), st, &notified
}

func campaign(name string) *api.Campaign {
	return &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign},
		Metadata: api.ObjectMeta{Name: name},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.com/aloha.git", Commit: "main"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Runs: "0..3"}}}
}

func code(err error) int {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

func TestTokenRequiredEverywhereButHealthz(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	resp, err := http.Get(c.Server + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	for _, tok := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
		bad := client.New(c.Server, tok)
		if _, err := bad.List(ctx); code(err) != 401 {
			t.Fatalf("token %q: list got %v, want 401", tok, err)
		}
		if _, err := bad.Apply(ctx, campaign("a")); code(err) != 401 {
			t.Fatalf("token %q: apply got %v, want 401", tok, err)
		}
	}
	req, _ := http.NewRequest("GET", c.Server+wire.Prefix+"/campaigns", nil)
	req.Header.Set("Authorization", "Basic "+token)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
		t.Fatalf("non-bearer scheme: %d", resp.StatusCode)
	}
	if _, err := c.List(ctx); err != nil {
		t.Fatalf("right token refused: %v", err)
	}
}

func TestCRUDWithOptimisticConcurrency(t *testing.T) {
	c, _, notified := start(t)
	ctx := context.Background()
	a, err := c.Create(ctx, campaign("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, campaign("a")); code(err) != 409 {
		t.Fatalf("duplicate create: %v, want 409", err)
	}
	a.Spec.Priority = 3
	b, err := c.Replace(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if b.Metadata.Generation != 2 {
		t.Fatalf("generation after spec change = %d", b.Metadata.Generation)
	}
	a.Spec.Priority = 4 // a is stale now
	if _, err := c.Replace(ctx, a); code(err) != 409 {
		t.Fatalf("stale replace: %v, want 409", err)
	}
	a.Metadata.ResourceVersion = ""
	if _, err := c.Replace(ctx, a); code(err) != 422 {
		t.Fatalf("replace without resourceVersion: %v, want 422", err)
	}
	// Apply ignores resourceVersion.
	if out, err := c.Apply(ctx, a); err != nil || out.Spec.Priority != 4 || out.Metadata.Generation != 3 {
		t.Fatalf("apply: %+v %v", out, err)
	}
	if s, err := c.Suspend(ctx, "a"); err != nil || !s.Spec.Suspend {
		t.Fatalf("suspend: %v", err)
	}
	if s, err := c.Resume(ctx, "a"); err != nil || s.Spec.Suspend {
		t.Fatalf("resume: %v", err)
	}
	if l, err := c.List(ctx); err != nil || len(l) != 1 {
		t.Fatalf("list: %v %v", l, err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// Marked deleted until the reconciler has removed its run records.
	if got, err := c.Get(ctx, "a"); err != nil || got.Metadata.DeletionTimestamp == nil {
		t.Fatalf("get deleted: %+v %v", got, err)
	}
	if _, err := c.Apply(ctx, a); code(err) != 409 {
		t.Fatalf("apply to a campaign being deleted: %v, want 409", err)
	}
	if len(*notified) < 6 {
		t.Fatalf("reconciler not notified of writes: %v", *notified)
	}
}

func TestInvalidManifestIs422WithFieldPaths(t *testing.T) {
	c, _, _ := start(t)
	ctx := context.Background()
	_, err := c.Apply(ctx, campaign("Not_A_Name"))
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != 422 {
		t.Fatalf("invalid name: %v, want 422", err)
	}
	if len(ae.Status.Causes) == 0 || ae.Status.Causes[0].Field != "metadata.name" {
		t.Fatalf("causes = %+v, want metadata.name", ae.Status.Causes)
	}
	req, _ := http.NewRequest("POST", c.Server+wire.Prefix+"/campaigns", strings.NewReader(`{"metadata":{"name":"a"},"spec":{"bogus":1}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 422 {
		t.Fatalf("unknown field: %v %v, want 422", resp.StatusCode, err)
	}
}

func TestOversizedBodiesAre413(t *testing.T) {
	c, _, _ := start(t)
	big := campaign("big")
	big.Metadata.Annotations = map[string]string{"pad": strings.Repeat("x", apiserver.MaxManifestBytes)}
	if _, err := c.Apply(context.Background(), big); code(err) != 413 {
		t.Fatalf("oversized manifest: %v, want 413", err)
	}
	data := bytes.Repeat([]byte{1}, 1<<17)
	sum := sha256.Sum256(data)
	if err := c.UploadSource(context.Background(), hex.EncodeToString(sum[:]), bytes.NewReader(data), int64(len(data))); code(err) != 413 {
		t.Fatalf("oversized source: %v, want 413", err)
	}
}

func TestSourceUploadIsVerified(t *testing.T) {
	c, st, _ := start(t)
	ctx := context.Background()
	data := []byte("a tar.gz, honestly")
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	wrong := strings.Repeat("0", 64)
	if err := c.UploadSource(ctx, wrong, bytes.NewReader(data), int64(len(data))); code(err) != 422 {
		t.Fatalf("digest mismatch: %v, want 422", err)
	}
	if ok, _ := st.HasSource(ctx, wrong); ok {
		t.Fatal("mismatched upload was stored")
	}
	if ok, _ := c.HasSource(ctx, sha); ok {
		t.Fatal("HasSource before upload")
	}
	if err := c.UploadSource(ctx, sha, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.HasSource(ctx, sha); !ok || err != nil {
		t.Fatalf("HasSource after upload: %v %v", ok, err)
	}
}

func TestRunsArePaginated(t *testing.T) {
	c, st, _ := start(t)
	ctx := context.Background()
	cp, err := c.Create(ctx, campaign("p"))
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]int, 25)
	for i := range runs {
		runs[i] = i
	}
	if _, err := st.CreateRuns(ctx, "p", cp.Metadata.UID, runs); err != nil {
		t.Fatal(err)
	}
	seen := 0
	after := -1
	for pages := 0; after != -1 || pages == 0; pages++ {
		page, err := c.Runs(ctx, "p", schema.RunPending, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			if r.Run != seen {
				t.Fatalf("run %d out of order (want %d)", r.Run, seen)
			}
			seen++
		}
		after = page.Next
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if seen != 25 {
		t.Fatalf("paged through %d runs, want 25", seen)
	}
	if _, err := c.Logs(ctx, "p", 3); err != nil {
		t.Fatalf("logs: %v", err)
	}
	if _, err := c.Run(ctx, "p", 99); code(err) != 404 {
		t.Fatalf("missing run: %v", err)
	}
}
