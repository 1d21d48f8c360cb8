package client

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// PullStats counts the files a pull wrote and those it found already
// present with their listed digest.
type PullStats struct{ Downloaded, Skipped int }

// PullResults downloads every stored result file of campaign name into
// dir, jobs at a time, as opp_runall would have left them there. Files
// already present with the listed sha256 are skipped, so an interrupted
// pull resumes; small files of one run are fetched together (one request
// per batch), larger ones one by one. Each file is written to a temporary
// name next to its place, verified against the listed digest and renamed,
// so dir never holds a partial or unverified file under a result's name.
// A name that is not a relative path of plain file names is refused
// (nothing is written for it) and reported in the error, which joins every
// file that failed; the others are still pulled.
func (c *Client) PullResults(ctx context.Context, name, dir string, jobs int) (PullStats, error) {
	list := func(yield func(wire.ResultEntry)) error {
		after := -1
		for {
			page, err := c.Results(ctx, name, after, 1000)
			if err != nil {
				return err
			}
			for _, e := range page.Items {
				yield(e)
			}
			if page.Next < 0 {
				return nil
			}
			// Next is the last run number of the page: a server that hands
			// back a cursor not past the one it was given would be asked for
			// the same page forever.
			if page.Next <= after {
				return fmt.Errorf("list results of %s: the server's next cursor %d does not advance past %d", name, page.Next, after)
			}
			after = page.Next
		}
	}
	open := func(e wire.ResultEntry) (io.ReadCloser, error) { return c.OpenResult(ctx, name, e.Run, e.Name) }
	batch := func(run int, names []string) (io.ReadCloser, error) { return c.OpenResultBatch(ctx, name, run, names) }
	return pullBatched(ctx, dir, jobs, list, open, batch)
}

// pullAll downloads, jobs at a time, every file that list yields and
// open reads.
func pullAll(ctx context.Context, dir string, jobs int, list func(yield func(wire.ResultEntry)) error,
	open func(wire.ResultEntry) (io.ReadCloser, error)) (PullStats, error) {
	return pullBatched(ctx, dir, jobs, list, open, nil)
}

// openBatch reads several result files of one run as a tar archive.
type openBatch func(run int, names []string) (io.ReadCloser, error)

// pullBatched is pullAll that fetches the small files of a run together
// through batch, if not nil.
func pullBatched(ctx context.Context, dir string, jobs int, list func(yield func(wire.ResultEntry)) error,
	open func(wire.ResultEntry) (io.ReadCloser, error), batch openBatch) (PullStats, error) {
	var st PullStats
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	var mu sync.Mutex
	var errs []error
	work := make(chan []wire.ResultEntry)
	var wg sync.WaitGroup
	for i := 0; i < max(jobs, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for group := range work {
				got, err := pullGroup(dir, group, open, batch)
				mu.Lock()
				st.Downloaded += got.Downloaded
				st.Skipped += got.Skipped
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	// Entries are grouped a listing page at a time (a page holds whole
	// runs); singles go at once when there is no batching.
	var page []wire.ResultEntry
	flush := func() {
		for _, g := range groupEntries(page, batch != nil) {
			work <- g
		}
		page = page[:0]
	}
	listErr := list(func(e wire.ResultEntry) {
		page = append(page, e)
		if batch == nil || len(page) >= pullBatchFiles {
			flush()
		}
	})
	flush()
	close(work)
	wg.Wait()
	if listErr != nil {
		errs = append(errs, listErr)
	}
	return st, errors.Join(errs...)
}

// Small result files of one run are fetched together, in one request per
// batch (see wire.ResultBatchRequest): the server then reads the
// campaign and the run record once per batch, not once per file.
const (
	pullBatchFiles = 5000     // files of one batch
	pullBatchBytes = 32 << 20 // bytes of one batch
	pullAloneBytes = 4 << 20  // larger files are downloaded one by one
)

// groupEntries splits a listing page into download groups: with
// batching, small files of one run in batches and larger files alone;
// without, every file alone.
func groupEntries(items []wire.ResultEntry, batching bool) [][]wire.ResultEntry {
	var out [][]wire.ResultEntry
	open := map[int]int{} // run -> its batch being filled, in out
	size := map[int]int64{}
	for _, e := range items {
		if !batching || e.Size > pullAloneBytes {
			out = append(out, []wire.ResultEntry{e})
			continue
		}
		i, ok := open[e.Run]
		if !ok || len(out[i]) >= pullBatchFiles || size[e.Run]+e.Size > pullBatchBytes {
			out = append(out, nil)
			i = len(out) - 1
			open[e.Run], size[e.Run] = i, 0
		}
		out[i] = append(out[i], e)
		size[e.Run] += e.Size
	}
	return out
}

// pullGroup downloads the files of a group that are not already present
// with their digest.
func pullGroup(dir string, group []wire.ResultEntry, open func(wire.ResultEntry) (io.ReadCloser, error), batch openBatch) (PullStats, error) {
	var st PullStats
	var errs []error
	var missing []wire.ResultEntry
	for _, e := range group {
		dst, err := resultPath(dir, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sum, err := resultfiles.FileSHA256(dst); err == nil && sum == e.SHA256 {
			st.Skipped++
			continue
		}
		missing = append(missing, e)
	}
	if len(missing) > 1 && batch != nil {
		n, err := pullBatch(dir, missing, batch)
		st.Downloaded += n
		if !batchUnsupported(err) {
			return st, errors.Join(append(errs, err)...)
		}
	}
	// One file, or a server without batch downloads.
	for _, e := range missing {
		if err := pullOne(dir, e, open); err != nil {
			errs = append(errs, err)
			continue
		}
		st.Downloaded++
	}
	return st, errors.Join(errs...)
}

// batchUnsupported reports the answer of a controller that predates batch
// downloads.
func batchUnsupported(err error) bool {
	return IsNotFound(err) && strings.Contains(err.Error(), "no such endpoint")
}

// pullBatch downloads files of one run in one request and reports how
// many it wrote.
func pullBatch(dir string, files []wire.ResultEntry, batch openBatch) (int, error) {
	run := files[0].Run
	want := make(map[string]wire.ResultEntry, len(files))
	names := make([]string, 0, len(files))
	for _, e := range files {
		want[e.Name] = e
		names = append(names, e.Name)
	}
	body, err := batch(run, names)
	if err != nil {
		return 0, fmt.Errorf("download results of run %d: %w", run, err)
	}
	defer body.Close()
	tr := tar.NewReader(body)
	got := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return got, fmt.Errorf("download results of run %d: %w", run, err)
		}
		e, ok := want[h.Name]
		if !ok || h.Typeflag != tar.TypeReg || h.Size != e.Size {
			return got, fmt.Errorf("download results of run %d: the server sent %q (%d bytes), which was not asked for", run, h.Name, h.Size)
		}
		delete(want, h.Name)
		dst, err := resultPath(dir, e)
		if err != nil {
			return got, err
		}
		if err := writeResult(dst, e, tr); err != nil {
			return got, err
		}
		got++
	}
	if len(want) > 0 {
		return got, fmt.Errorf("download results of run %d: %d files missing from the server's answer", run, len(want))
	}
	return got, nil
}

// resultPath is where a listed result file goes under dir. Names come
// from the server and are hostile: only a relative path of safe names
// (resultfiles.SafePath, the rule the runner stores by) is accepted.
func resultPath(dir string, e wire.ResultEntry) (string, error) {
	if !resultfiles.SafePath(e.Name) {
		return "", fmt.Errorf("run %d: result name %q refused: not a relative path of plain file names", e.Run, e.Name)
	}
	return filepath.Join(dir, filepath.FromSlash(e.Name)), nil
}

// pullOne downloads one file.
func pullOne(dir string, e wire.ResultEntry, open func(wire.ResultEntry) (io.ReadCloser, error)) error {
	dst, err := resultPath(dir, e)
	if err != nil {
		return err
	}
	body, err := open(e)
	if err != nil {
		return fmt.Errorf("download %s: %w", e.Name, err)
	}
	defer body.Close()
	return writeResult(dst, e, body)
}

// writeResult writes body to dst through a temporary file, verified
// against the listed digest before it is renamed into place.
func writeResult(dst string, e wire.ResultEntry, body io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := createPart(dst)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", e.Name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return fmt.Errorf("download %s: sha256 %s, want %s", e.Name, got, e.SHA256)
	}
	return os.Rename(tmp.Name(), dst)
}

// createPart creates a new temporary file next to dst with the mode a
// simulation's own fopen would give dst (0666 less the umask), which is
// what `simswarm run` leaves; os.CreateTemp would make it 0600. Its name
// does not grow with dst's (a result may have the longest name a file can
// have) and starts with .simswarm, which no result name may.
func createPart(dst string) (*os.File, error) {
	for {
		p := filepath.Join(filepath.Dir(dst), ".simswarm-part-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
}

// PullKeptResults is PullResults of the results a deleted campaign kept
// (result set uid), one file at a time.
func (c *Client) PullKeptResults(ctx context.Context, uid, dir string, jobs int) (PullStats, error) {
	list := func(yield func(wire.ResultEntry)) error {
		cont := ""
		for {
			page, err := c.KeptResults(ctx, uid, cont, 1000)
			if err != nil {
				return err
			}
			for _, e := range page.Items {
				yield(e)
			}
			if page.Continue == "" {
				return nil
			}
			if page.Continue == cont {
				return fmt.Errorf("list results of %s: the server returned the same page again (continue %q)", uid, cont)
			}
			cont = page.Continue
		}
	}
	open := func(e wire.ResultEntry) (io.ReadCloser, error) { return c.OpenKeptResult(ctx, uid, e.Run, e.Name) }
	return pullAll(ctx, dir, jobs, list, open)
}
