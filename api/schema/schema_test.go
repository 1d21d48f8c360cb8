package schema

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/simswarm/simswarm/api"
)

func TestTaskIDs(t *testing.T) {
	if got := RunTaskID("aloha", "0123456789abcdef", 7, 2); got != "run:aloha:01234567:7:2" {
		t.Errorf("RunTaskID = %q", got)
	}
	if got := RunTaskID("c", "u1", 0, 1); got != "run:c:u1:0:1" {
		t.Errorf("RunTaskID with a short uid = %q", got)
	}
	key := BuildKey("abc", api.BuildSpec{Command: []string{"make"}})
	if got := BuildTaskID(key); got != "build:"+key[:16] {
		t.Errorf("BuildTaskID = %q", got)
	}
}

// TestBuildKeyCoversDigestRecipeAndImage: the same inputs give the same key
// (cache hits across campaigns), any change to what the artifact depends on
// gives another.
func TestBuildKeyCoversDigestRecipeAndImage(t *testing.T) {
	base := api.BuildSpec{Command: []string{"make"}, Env: map[string]string{"A": "1", "B": "2"},
		Artifacts: []string{"aloha"}, Image: "img:1"}
	k := BuildKey("sha-1", base)
	if len(k) != 64 {
		t.Fatalf("key %q is not a hex sha256", k)
	}
	same := base
	same.Env = map[string]string{"B": "2", "A": "1"}
	if BuildKey("sha-1", same) != k {
		t.Error("map order changed the key")
	}
	variants := map[string]func() (string, api.BuildSpec){
		"digest":    func() (string, api.BuildSpec) { return "sha-2", base },
		"command":   func() (string, api.BuildSpec) { b := base; b.Command = []string{"make", "all"}; return "sha-1", b },
		"env":       func() (string, api.BuildSpec) { b := base; b.Env = map[string]string{"A": "1"}; return "sha-1", b },
		"artifacts": func() (string, api.BuildSpec) { b := base; b.Artifacts = []string{"x"}; return "sha-1", b },
		"image":     func() (string, api.BuildSpec) { b := base; b.Image = "img:2"; return "sha-1", b },
	}
	for name, v := range variants {
		d, b := v()
		if BuildKey(d, b) == k {
			t.Errorf("changing the %s kept the key", name)
		}
	}
}

func TestNamesAndDatabase(t *testing.T) {
	if got := RunID("c", "u", 3); got != "c/u/3" {
		t.Errorf("RunID = %q", got)
	}
	if got := ResultName("c", "u", 3, "x.sca"); got != "c/u/3/x.sca" {
		t.Errorf("ResultName = %q", got)
	}
	if ArtifactName("k") != "k.tar.gz" || SourceName("s") != "s.tar.gz" {
		t.Error("GridFS/Redis names differ from the contract")
	}
	for uri, want := range map[string]string{
		"mongodb://h:1/mydb":          "mydb",
		"mongodb://h:1/":              "simswarm",
		"mongodb://h:1":               "simswarm",
		"mongodb://h:1/db2?replSet=x": "db2",
	} {
		if got := DatabaseName(uri); got != want {
			t.Errorf("DatabaseName(%q) = %q, want %q", uri, got, want)
		}
	}
}

// TestRecordFieldNames pins the bson field names the controller queries.
func TestRecordFieldNames(t *testing.T) {
	raw, err := bson.Marshal(RunRecord{ID: "c/u/1", State: RunFailed, ExitCode: 3, Files: []ResultFile{{Name: "a.sca", FileID: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	doc := bson.Raw(raw)
	for _, k := range []string{"_id", "campaign", "uid", "run", "state", "attempts", "exitCode", "durationMs", "cpuMs", "files", "updatedAt"} {
		if _, err := doc.LookupErr(k); err != nil {
			t.Errorf("run record lacks %q: %v", k, err)
		}
	}
	if v := doc.Lookup("files", "0", "fileId"); v.IsZero() {
		t.Error("result file lacks fileId")
	}
	raw, _ = bson.Marshal(BuildRecord{Key: "k", State: BuildSucceeded, SHA256: "s"})
	if bson.Raw(raw).Lookup("_id").StringValue() != "k" || bson.Raw(raw).Lookup("state").StringValue() != BuildSucceeded {
		t.Errorf("build record %s", bson.Raw(raw))
	}
}

func TestBatchTaskIDsAndRunLists(t *testing.T) {
	base := RunTask{Campaign: "c", UID: "0123456789"}
	one := base.Batch([]RunItem{{Run: 7, Attempt: 2}})
	if one.Runs != nil || one.Run != 7 || one.Attempt != 2 || one.TaskID() != RunTaskID("c", "0123456789", 7, 2) {
		t.Fatalf("a batch of one is not a plain run task: %+v %s", one, one.TaskID())
	}
	b := base.Batch([]RunItem{{3, 0}, {4, 1}, {5, 0}, {9, 0}, {11, 0}, {12, 0}})
	if got, want := b.TaskID(), "run:c:01234567:3-5,9,11-12:1"; got != want {
		t.Fatalf("TaskID %q, want %q", got, want)
	}
	items := b.Items()
	if len(items) != 6 || items[1] != (RunItem{4, 1}) || items[5] != (RunItem{12, 0}) {
		t.Fatalf("items %+v", items)
	}
	runs, err := ParseRuns("3-5,9,11-12")
	if err != nil || FormatRuns(runs) != "3-5,9,11-12" || len(runs) != 6 {
		t.Fatalf("ParseRuns: %v %v", runs, err)
	}
	for _, bad := range []string{"", "a", "5-3", "-1", "1-", "0-99999999"} {
		if _, err := ParseRuns(bad); err == nil {
			t.Errorf("ParseRuns(%q) accepted", bad)
		}
	}
	if c, n := ParseAnnouncement(Announcement("noop", 25)); c != "noop" || n != 25 {
		t.Fatalf("announcement: %s %d", c, n)
	}
	if c, n := ParseAnnouncement("noop"); c != "noop" || n != 1 {
		t.Fatalf("plain announcement: %s %d", c, n)
	}
	if c, n := ParseAnnouncement(ChangeAnnouncement("noop")); c != "noop" || n != 0 {
		t.Fatalf("change announcement: %s %d", c, n)
	}
}
