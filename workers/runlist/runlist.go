package runlist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/oppcli"
)

const (
	// Coll holds one Record per build and query.
	Coll = "runlists"
	// Bucket holds each list's runs, one "N<TAB>$var=value, ..." line each,
	// followed by "<TAB>identity" when the list has identities, gzipped
	// when the record's Encoding says so.
	Bucket = "runlists"

	// EncodingGzip is a Record.Encoding: the file is the lines gzipped (a
	// million runs' lines are about 8 MB, which the builder uploads and the
	// controller reads back before a campaign's first record; gzipped,
	// about 2 MB). Lists stored by older builders have no encoding: plain
	// lines.
	EncodingGzip = "gzip"

	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// Query is what a run list answers: which runs does the program list for
// this config (and filter), started in this directory of the build.
type Query struct {
	Program    []string `json:"program"`
	WorkingDir string   `json:"workingDir"`
	IniFile    string   `json:"iniFile"`
	Config     string   `json:"config"`
	Filter     string   `json:"filter,omitempty"`
}

// QueryOf is the query of a campaign's simulation spec, with OMNeT++'s
// defaults filled in. Only a filter expression is the program's to
// evaluate (-r); a filter of run numbers ("0..9,20") selects among the
// config's runs, so its list is the config's (shared by every such filter)
// and the consumer selects (api.RunFilter.Select), naming numbers the
// program does not list.
func QueryOf(sim api.SimulationSpec) Query {
	q := Query{Program: sim.Program, WorkingDir: sim.WorkingDir, IniFile: sim.IniFile, Config: sim.Config}
	if api.IsRunExpression(sim.Runs) {
		q.Filter = sim.Runs
	}
	if q.WorkingDir == "" {
		q.WorkingDir = "."
	}
	if q.IniFile == "" {
		q.IniFile = "omnetpp.ini"
	}
	if q.Config == "" {
		q.Config = "General"
	}
	return q
}

// ID names the run list of query q on the build with key buildKey.
func ID(buildKey string, q Query) string {
	b, _ := json.Marshal(q)
	sum := sha256.Sum256(b)
	k := buildKey
	if len(k) > 24 {
		k = k[:24]
	}
	return k + "-" + hex.EncodeToString(sum[:8])
}

// Record is a run list's entry in Coll.
type Record struct {
	ID        string    `bson:"_id"`
	BuildKey  string    `bson:"buildKey"`
	State     string    `bson:"state"`
	Count     int       `bson:"count"`
	FileID    any       `bson:"fileId,omitempty"`
	Error     string    `bson:"error,omitempty"`
	UpdatedAt time.Time `bson:"updatedAt"`
	// Identified says every run has its identity (package runidentity)
	// in the list; IdentityError says why a list has none, when the
	// builder tried.
	Identified    bool   `bson:"identified,omitempty"`
	IdentityError string `bson:"identityError,omitempty"`
	// Encoding is how the file holds the lines: "" plain, or EncodingGzip.
	Encoding string `bson:"encoding,omitempty"`
	// Dense says the runs are 0..Count-1, every one (a config's whole
	// list, as OMNeT++ numbers it): Numbers needs not read the file, which
	// a million-run campaign's first records waited for. Lists stored by
	// older builders do not say, and are read.
	Dense bool `bson:"dense,omitempty"`
}

func fileName(id string) string { return id + ".runs" }

// Save stores runs as the run list id: the file first (streamed, in
// bounded inserts), then the record.
func Save(ctx context.Context, db *mongo.Database, id, buildKey string, runs []oppcli.RunInfo) error {
	return SaveIdentified(ctx, db, id, buildKey, runs, nil, "")
}

// SaveIdentified is Save with each run's identity: ids[i] is runs[i]'s
// (hex, no tabs), or ids is nil and idErr says why there are none.
func SaveIdentified(ctx context.Context, db *mongo.Database, id, buildKey string, runs []oppcli.RunInfo, ids []string, idErr string) error {
	if ids != nil && len(ids) != len(runs) {
		return fmt.Errorf("save run list %s: %d identities for %d runs", id, len(ids), len(runs))
	}
	w, err := create(ctx, db, id, buildKey, ids != nil)
	if err != nil {
		return err
	}
	for i, r := range runs {
		if ids != nil {
			w.addIdentified(r, ids[i])
		} else {
			w.Add(r)
		}
	}
	return w.Commit(ctx, idErr)
}

// Writer stores a run list while its runs are still being listed: each
// run is compressed and uploaded as it is added (a million-run list is
// stored while the program is still writing it, not after), and the
// record, with the count, is written only by Commit, after the last run
// is stored. A list that is aborted, or never committed (its builder
// died), has no record: no reader takes the runs added so far for the
// list, and the next attempt replaces them.
type Writer struct {
	db         *mongo.Database
	id, key    string
	identified bool
	pw         *io.PipeWriter
	gz         *gzip.Writer
	bw         *bufio.Writer
	num        []byte
	n          int
	sparse     bool // a run was not numbered as its place in the list
	done       chan uploaded
}

type uploaded struct {
	up  gridfs.Uploaded
	err error
}

// Create starts storing the run list id of the build buildKey, without
// identities; Add its runs, then Commit (or Abort).
func Create(ctx context.Context, db *mongo.Database, id, buildKey string) (*Writer, error) {
	return create(ctx, db, id, buildKey, false)
}

func create(ctx context.Context, db *mongo.Database, id, buildKey string, identified bool) (*Writer, error) {
	// A crashed earlier attempt may have left a file under the name.
	if err := deleteFiles(ctx, db, fileName(id)); err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	// The fastest level: the upload, not the compression, is what the
	// first record waits for.
	gz, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
	w := &Writer{db: db, id: id, key: buildKey, identified: identified, pw: pw, gz: gz,
		bw: bufio.NewWriterSize(gz, 64<<10), done: make(chan uploaded, 1)}
	// A writer given up without Commit or Abort (its caller panicked)
	// leaves the upload waiting for lines until ctx ends.
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	go func() {
		up, err := gridfs.Upload(ctx, db, Bucket, fileName(id), pr, bson.M{"buildKey": buildKey})
		stop()
		pr.CloseWithError(err) // stops the writer if the upload gave up
		w.done <- uploaded{up, err}
	}()
	return w, nil
}

// Add stores run r as the list's next (runs come in the program's order).
func (w *Writer) Add(r oppcli.RunInfo) { w.addIdentified(r, "") }

func (w *Writer) addIdentified(r oppcli.RunInfo, identity string) {
	// A failed upload makes the writes fail from then on (bufio keeps
	// the error), which Commit returns.
	w.num = writeLine(w.bw, w.num, r, identity, w.identified)
	w.sparse = w.sparse || r.Number != w.n
	w.n++
}

// Commit stores the list's end and then its record, which says how many
// runs it has; idErr says why the list has no identities.
func (w *Writer) Commit(ctx context.Context, idErr string) error {
	err := w.bw.Flush()
	if err == nil {
		err = w.gz.Close()
	}
	w.pw.CloseWithError(err)
	u := <-w.done
	if err == nil {
		err = u.err
	}
	if err != nil {
		return fmt.Errorf("save run list %s: %w", w.id, err)
	}
	_, err = w.db.Collection(Coll).ReplaceOne(ctx, bson.M{"_id": w.id}, Record{ID: w.id, BuildKey: w.key, State: StateSucceeded,
		Count: w.n, FileID: u.up.ID, UpdatedAt: time.Now().UTC(), Identified: w.identified, IdentityError: idErr,
		Encoding: EncodingGzip, Dense: !w.sparse},
		options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record run list %s: %w", w.id, err)
	}
	return nil
}

// errAborted ends the upload of a list that is not whole.
var errAborted = errors.New("the run list was not listed whole")

// Abort gives the list up: what was uploaded of it is removed, and no
// record is written.
func (w *Writer) Abort() {
	w.pw.CloseWithError(errAborted)
	<-w.done
}

// lineBreaks turns a tab or newline in a run's variables, which would
// break the line format, into a space (one replacer for every line: a
// million runs are written before a million-run campaign's first record).
var lineBreaks = strings.NewReplacer("\t", " ", "\n", " ")

// writeLines writes runs (with ids[i] after runs[i] unless ids is nil) to
// out in the Bucket's line format.
func writeLines(out io.Writer, runs []oppcli.RunInfo, ids []string) error {
	w := bufio.NewWriterSize(out, 64<<10)
	var num []byte
	for i, r := range runs {
		id := ""
		if ids != nil {
			id = ids[i]
		}
		num = writeLine(w, num, r, id, ids != nil)
	}
	return w.Flush()
}

// writeLine writes run r's line (with its identity if identified) to w,
// with num as scratch space, which it returns.
func writeLine(w *bufio.Writer, num []byte, r oppcli.RunInfo, identity string, identified bool) []byte {
	num = strconv.AppendInt(num[:0], int64(r.Number), 10)
	w.Write(num)
	w.WriteByte('\t')
	w.WriteString(lineBreaks.Replace(r.Vars))
	if identified {
		w.WriteByte('\t')
		w.WriteString(identity)
	}
	w.WriteByte('\n')
	return num
}

// SaveFailure records that the program could not list the runs, with why.
func SaveFailure(ctx context.Context, db *mongo.Database, id, buildKey, msg string) error {
	if len(msg) > 4<<10 {
		msg = msg[len(msg)-4<<10:]
	}
	_, err := db.Collection(Coll).ReplaceOne(ctx, bson.M{"_id": id}, Record{ID: id, BuildKey: buildKey, State: StateFailed,
		Error: msg, UpdatedAt: time.Now().UTC()}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record run list %s: %w", id, err)
	}
	return nil
}

// Get returns the record of run list id, or nil if there is none yet.
func Get(ctx context.Context, db *mongo.Database, id string) (*Record, error) {
	var rec Record
	err := db.Collection(Coll).FindOne(ctx, bson.M{"_id": id}).Decode(&rec)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run list %s: %w", id, err)
	}
	return &rec, nil
}

// Runs reads a succeeded list's runs.
func Runs(ctx context.Context, db *mongo.Database, rec *Record) ([]oppcli.RunInfo, error) {
	var out []oppcli.RunInfo
	err := scan(ctx, db, rec, func(n int, vars, _ string) { out = append(out, oppcli.RunInfo{Number: n, Vars: vars}) })
	return out, err
}

// Identities are the identities of a list's runs (package runidentity).
type Identities struct {
	nums []int
	ids  [][sha256.Size]byte
}

// Of is run n's identity, or false when the list has none for it.
func (x *Identities) Of(n int) (string, bool) {
	if x == nil {
		return "", false
	}
	i, ok := slices.BinarySearch(x.nums, n)
	if !ok {
		return "", false
	}
	return hex.EncodeToString(x.ids[i][:]), true
}

// Len is the number of runs with an identity.
func (x *Identities) Len() int {
	if x == nil {
		return 0
	}
	return len(x.nums)
}

// ReadIdentities reads an identified list's identities, nil for a list
// without them. A million runs take about 40 MB.
func ReadIdentities(ctx context.Context, db *mongo.Database, rec *Record) (*Identities, error) {
	if !rec.Identified {
		return nil, nil
	}
	x := &Identities{nums: make([]int, 0, rec.Count), ids: make([][sha256.Size]byte, 0, rec.Count)}
	var bad error
	err := scan(ctx, db, rec, func(n int, _, id string) {
		var b [sha256.Size]byte
		if k, err := hex.Decode(b[:], []byte(id)); (err != nil || k != len(b)) && bad == nil {
			bad = fmt.Errorf("run list %s: run %d has no identity", rec.ID, n)
		}
		x.nums = append(x.nums, n)
		x.ids = append(x.ids, b)
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, err
	}
	return x, nil
}

// Numbers reads a succeeded list's run numbers, ascending.
func Numbers(ctx context.Context, db *mongo.Database, rec *Record) ([]int, error) {
	if rec.State == StateSucceeded && rec.Dense {
		out := make([]int, rec.Count)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	out := make([]int, 0, rec.Count)
	err := scan(ctx, db, rec, func(n int, _, _ string) { out = append(out, n) })
	return out, err
}

func scan(ctx context.Context, db *mongo.Database, rec *Record, f func(n int, vars, identity string)) error {
	if rec.State != StateSucceeded {
		return fmt.Errorf("run list %s: %s", rec.ID, rec.Error)
	}
	st, err := gridfs.OpenByID(ctx, db, Bucket, rec.FileID)
	if err != nil {
		return fmt.Errorf("open run list %s: %w", rec.ID, err)
	}
	defer st.Close()
	var in io.Reader = st
	switch rec.Encoding {
	case "":
	case EncodingGzip:
		gz, err := gzip.NewReader(st)
		if err != nil {
			return fmt.Errorf("read run list %s: %w", rec.ID, err)
		}
		defer gz.Close()
		in = gz
	default:
		return fmt.Errorf("run list %s: unknown encoding %q", rec.ID, rec.Encoding)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	count, prev := 0, -1
	for sc.Scan() {
		if count == rec.Count {
			// Not read to its end: a compressed file may expand without bound.
			return fmt.Errorf("run list %s has more than the %d runs its record says", rec.ID, rec.Count)
		}
		num, rest, _ := bytes.Cut(sc.Bytes(), []byte{'\t'})
		vars, identity, _ := bytes.Cut(rest, []byte{'\t'})
		n, err := strconv.Atoi(string(num))
		if err != nil || n <= prev {
			return fmt.Errorf("run list %s: line %d is not a run after %d", rec.ID, count+1, prev)
		}
		f(n, string(vars), string(identity))
		prev = n
		count++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read run list %s: %w", rec.ID, err)
	}
	if count != rec.Count {
		return fmt.Errorf("run list %s has %d runs, its record says %d", rec.ID, count, rec.Count)
	}
	return nil
}

func deleteFiles(ctx context.Context, db *mongo.Database, name string) error {
	gb := db.GridFSBucket(options.GridFSBucket().SetName(Bucket))
	cur, err := gb.Find(ctx, bson.M{"filename": name})
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	var files []struct {
		ID any `bson:"_id"`
	}
	if err := cur.All(ctx, &files); err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	for _, f := range files {
		if err := gb.Delete(ctx, f.ID); err != nil && !errors.Is(err, mongo.ErrFileNotFound) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
	}
	return nil
}
