package dashboard_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/controller/client"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/resultindex"
)

// scaWorker follows the runner's side of the record contract at a fixed
// pace, as the runner does it for a result file: it writes the run's .sca
// (OMNeT++ 6 text: run, attrs, itervars, scalars, a statistic), stores it
// in GridFS, indexes it with resultindex.Build and Insert (the runner's
// calls) and records the run Succeeded with its index summary. Run r is
// the point iaMean=1+r%4, numHosts=10*(1+r/4%3) of repetition r/12, its
// channel utilization a function of the point plus 0.01 × the repetition.
type scaWorker struct {
	st   *store.Store
	pace time.Duration
	dir  string
}

func scaUtil(run int) (iaMean, numHosts, rep int, util float64) {
	iaMean, numHosts, rep = 1+run%4, 10*(1+run/4%3), run/12
	return iaMean, numHosts, rep, float64(numHosts)/(100*float64(iaMean)) + 0.01*float64(rep)
}

func (w *scaWorker) build(ctx context.Context, t *asynq.Task) error {
	return succeedBuild(ctx, w.st, t, "sca", 100)
}

func (w *scaWorker) run(ctx context.Context, t *asynq.Task) error {
	var rt schema.RunTask
	if err := json.Unmarshal(t.Payload(), &rt); err != nil {
		return err
	}
	id := store.RunID(rt.Campaign, rt.UID, rt.Run)
	runs := w.st.DB.Collection(schema.CollRuns)
	start := time.Now().UTC()
	if _, err := runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}},
		bson.M{"$set": bson.M{"state": schema.RunRunning, "worker": "sca-worker", "startedAt": start, "updatedAt": start},
			"$inc": bson.M{"attempts": 1}}); err != nil {
		return err
	}
	select {
	case <-time.After(w.pace):
	case <-ctx.Done():
		return ctx.Err()
	}
	ia, hosts, rep, util := scaUtil(rt.Run)
	name := fmt.Sprintf("%s-#%d.sca", rt.Simulation.Config, rt.Run)
	data := []byte(fmt.Sprintf(`version 3
run %[1]s-%[2]d-20261206-12:00:00-1
attr configname %[1]s
attr repetition %[3]d
attr runnumber %[2]d
itervar iaMean %[4]d
itervar numHosts %[5]d

scalar Aloha.server channelUtilization:last %[6]s
scalar Aloha.server duration %[7]d
statistic Aloha.server collisionLength:histogram
field count 3
field mean 0.25
`, rt.Simulation.Config, rt.Run, rep, ia, hosts, strconv.FormatFloat(util, 'g', -1, 64), 100+rt.Run))
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	doc := resultindex.Build(resultindex.Run{Campaign: rt.Campaign, UID: rt.UID, Run: rt.Run, Attempt: 1}, []string{path})
	if doc.Error != "" {
		return fmt.Errorf("index run %d: %s", rt.Run, doc.Error)
	}
	b := w.st.DB.GridFSBucket(options.GridFSBucket().SetName(schema.BucketResults))
	fid, err := b.UploadFromStream(ctx, schema.ResultName(rt.Campaign, rt.UID, rt.Run, name), bytes.NewReader(data))
	if err != nil {
		return err
	}
	if errs, err := resultindex.Insert(ctx, w.st.DB, []*resultindex.Doc{doc}); err != nil || errs[0] != nil {
		return fmt.Errorf("index run %d: %v %v", rt.Run, err, errs)
	}
	sum := sha256.Sum256(data)
	now := time.Now().UTC()
	summary := doc.Summary()
	_, err = runs.UpdateOne(ctx, bson.M{"_id": id, "state": bson.M{"$ne": schema.RunSucceeded}}, bson.M{"$set": bson.M{
		"state": schema.RunSucceeded, "exitCode": 0, "durationMs": now.Sub(start).Milliseconds(), "finishedAt": now, "updatedAt": now,
		"resultIndex": &summary,
		"files":       []schema.ResultFile{{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), FileID: fid}}}})
	return err
}

// TestBrowserResultsTabPlotsLive opens a campaign's Results tab in
// headless Chromium against a whole controller (manager.Run) on real Redis
// and FerretDB before any run finished, then lets a worker run the
// campaign: the plot gains points while the page is open, without a
// reload; the x and series variables can be switched; every plotted mean,
// interval and n equals the API's results table for the same scalar (and
// the values the runs wrote). Screenshots of every stage are kept.
func TestBrowserResultsTabPlotsLive(t *testing.T) {
	browser := chromium(t)
	shots := artifacts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	c := startBrowserController(t, ctx)
	base, rs, st := c.base, c.redis, c.st

	const runs = 36
	apiClient := client.New(base, token)
	camp := &api.Campaign{TypeMeta: api.TypeMeta{APIVersion: api.APIVersion, Kind: api.KindCampaign}, Metadata: api.ObjectMeta{Name: "aloha"},
		Spec: api.CampaignSpec{Source: api.SourceSpec{Git: &api.GitSource{URL: "https://example.invalid/aloha.git", Commit: "0123456789abcdef0123456789abcdef01234567"}},
			Simulation: api.SimulationSpec{Program: []string{"./aloha"}, Config: "PureAlohaExperiment", Runs: "0..35"}}}
	if _, err := apiClient.Apply(ctx, camp); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, ctx, browser, shots)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	waitUntil := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	type point struct {
		Series, X string
		N         int
		Mean, CI  string
	}
	points := func() []point {
		t.Helper()
		js := `Promise.resolve(JSON.stringify([...document.querySelectorAll("#results-plot circle.pt")].map(c => ({
			Series: c.parentNode.dataset.series, X: c.dataset.x, N: +c.dataset.n, Mean: c.dataset.mean, CI: c.dataset.ci}))))`
		var ps []point
		if err := json.Unmarshal([]byte(b.eval(js)), &ps); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	// choose picks an option of a select as a user does.
	choose := func(sel, value string) {
		t.Helper()
		js := fmt.Sprintf(`Promise.resolve((() => { const s = document.querySelector(%q); s.value = %q;
			s.dispatchEvent(new Event("change")); return s.value; })())`, sel, value)
		if v := b.eval(js); v != value {
			t.Fatalf("%s has no option %q", sel, value)
		}
	}
	plotted := func() (n int) {
		for _, p := range points() {
			n += p.N
		}
		return n
	}

	// 1. The tab, reached from the campaign page, before any run finished.
	b.login(base)
	b.run("campaign page", chromedp.Navigate(base+"/ui/campaigns/aloha"), chromedp.WaitVisible(css("#results-link")),
		b.click("#results-link"), chromedp.WaitVisible(css("#results-empty")))
	if loc := b.eval("Promise.resolve(location.pathname)"); loc != "/ui/campaigns/aloha/results" {
		t.Fatalf("the Results link led to %s", loc)
	}
	b.shot("01-results-before-runs")

	// 2. Runs finish while the page is open: points come in live.
	dir := t.TempDir()
	w := &scaWorker{st: st, pace: 600 * time.Millisecond, dir: dir}
	srv := asynq.NewServerFromRedisClient(redis.NewClient(&redis.Options{Addr: rs.Addr}), asynq.Config{Concurrency: 2,
		Queues: map[string]int{schema.QueueBuild: 1, schema.QueueRun: 1}, Logger: quietLog{},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond }})
	mux := asynq.NewServeMux()
	mux.HandleFunc(schema.TypeBuild, w.build)
	mux.HandleFunc(schema.TypeRun, w.run)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	waitUntil("first points plotted", 90*time.Second, func() bool { return plotted() > 0 })
	first := plotted()
	b.shot("02-results-first-points")
	if first >= runs {
		t.Fatalf("all %d runs were plotted at the first look: the page did not see the plot grow", first)
	}
	waitUntil("the plot gains points without a reload", 90*time.Second, func() bool { return plotted() >= first+4 })
	t.Logf("the plot went from %d to %d runs while the page was open", first, plotted())
	waitUntil("every run plotted", 120*time.Second, func() bool { return plotted() == runs })
	b.shot("03-results-complete")

	// 3. The defaults: the first scalar of the index, x the first
	// variable, one series per numHosts; every point has its 3
	// repetitions and equals what the runs wrote.
	if v := b.eval(`Promise.resolve(document.querySelector("#results-x").value + "|" + document.querySelector("#results-series").value)`); v != "iaMean|numHosts" {
		t.Fatalf("x|series = %s, want iaMean|numHosts", v)
	}
	if v := b.eval(`Promise.resolve(document.querySelector("#results-scalar").value)`); v != "Aloha.server.channelUtilization:last" {
		t.Fatalf("scalar %q", v)
	}
	ps := points()
	if len(ps) != 12 {
		t.Fatalf("%d points plotted, want 12: %+v", len(ps), ps)
	}
	for _, p := range ps {
		hosts, _ := strconv.Atoi(strings.TrimPrefix(p.Series, "numHosts="))
		ia, _ := strconv.Atoi(p.X)
		want := float64(hosts)/(100*float64(ia)) + 0.01 // mean over repetitions 0, 1, 2
		mean, _ := strconv.ParseFloat(p.Mean, 64)
		if p.N != 3 || math.Abs(mean-want) > 1e-12 {
			t.Errorf("point %+v: want n=3 mean %v", p, want)
		}
	}

	// 4. The same numbers as the API's table, point for point.
	tab, err := apiClient.ResultTable(ctx, "aloha", []string{"Aloha.server.channelUtilization:last"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != len(ps) {
		t.Fatalf("the table has %d rows, the plot %d points", len(tab.Rows), len(ps))
	}
	want := map[string]point{}
	for _, r := range tab.Rows {
		vars := map[string]string{}
		for i, v := range tab.Vars {
			vars[v] = r.Vars[i]
		}
		want["numHosts="+vars["numHosts"]+"|"+vars["iaMean"]] = point{N: r.N,
			Mean: strconv.FormatFloat(float64(r.Mean), 'g', -1, 64), CI: strconv.FormatFloat(float64(r.CI95), 'g', -1, 64)}
	}
	for _, p := range ps {
		w, ok := want[p.Series+"|"+p.X]
		if !ok || w.N != p.N || w.Mean != p.Mean || w.CI != p.CI {
			t.Errorf("plotted %+v, table %+v", p, w)
		}
	}

	// 5. Switch the axes: x numHosts, one series per iaMean.
	choose("#results-x", "numHosts")
	waitUntil("replotted against numHosts", 30*time.Second, func() bool {
		ps := points()
		return len(ps) == 12 && strings.HasPrefix(ps[0].Series, "iaMean=")
	})
	if loc := b.eval("Promise.resolve(location.search)"); !strings.Contains(loc, "x=numHosts") {
		t.Errorf("the page's address does not keep the choice: %s", loc)
	}
	series := b.eval(`Promise.resolve([...document.querySelectorAll("#results-plot g[data-series]")].map(g => g.dataset.series).join(";"))`)
	if series != "iaMean=1;iaMean=2;iaMean=3;iaMean=4" {
		t.Errorf("series %q", series)
	}
	b.shot("04-results-by-numHosts")

	// 6. Another scalar from the index's names.
	choose("#results-scalar", "Aloha.server.duration")
	waitUntil("replotted for duration", 30*time.Second, func() bool {
		return strings.Contains(b.eval(`Promise.resolve(document.querySelector("#results-plot").getAttribute("aria-label"))`), "Aloha.server.duration")
	})
	names := b.eval(`Promise.resolve([...document.querySelectorAll("#results-scalar option")].map(o => o.value).join(";"))`)
	if names != "Aloha.server.channelUtilization:last;Aloha.server.collisionLength:histogram:count;Aloha.server.collisionLength:histogram:mean;Aloha.server.duration" {
		t.Errorf("scalar choices %q", names)
	}
	b.shot("05-results-duration")
}
