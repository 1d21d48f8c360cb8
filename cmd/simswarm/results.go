package main

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
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/controller/client"
)

func newResultsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "results", Short: "Fetch the result files of a campaign, or of a deleted one (list, pull --uid, prune)"}
	var cf clientFlags
	var dir, uid string
	var jobs int
	pull := &cobra.Command{
		Use:   "pull (NAME | --uid UID) -o DIR",
		Short: "Download a campaign's result files into DIR (resumable, sha256-verified)",
		Long: `Download every stored result file of a campaign into DIR, as opp_runall
would have left them in results/. Files already present with the right
sha256 are skipped, so an interrupted pull resumes; small files of one run
are fetched together, larger ones one by one, -j at a time; each file is
written to a temporary name, verified and renamed. Stored names that are absolute or
contain ".." are refused.

--uid UID pulls the results a deleted campaign kept instead (simswarm
results list shows the uids).`,
		Example: `  simswarm results pull aloha -o results
  simswarm results pull --uid 0b7c...-9e2f -o old-results`,
		Args: func(cmd *cobra.Command, args []string) error {
			if (uid == "") == (len(args) == 1) && len(args) <= 1 {
				return nil
			}
			return invalidInput(fmt.Errorf("give a campaign NAME or --uid UID (of a deleted campaign), not both"))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			var st pullStats
			if uid != "" {
				st, err = pullKept(cmd.Context(), c, uid, dir, jobs)
			} else {
				st, err = pullResults(cmd.Context(), c, args[0], dir, jobs)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d files downloaded, %d already present, into %s\n", st.downloaded, st.skipped, dir)
			return err
		},
	}
	cf.add(pull)
	pull.Flags().StringVarP(&dir, "output", "o", "results", "directory to write the files into")
	pull.Flags().IntVarP(&jobs, "jobs", "j", 4, "parallel downloads")
	pull.Flags().StringVar(&uid, "uid", "", "pull the results kept by the deleted campaign of this uid (see results list)")
	cmd.AddCommand(pull, newResultsListCmd(), newResultsPruneCmd(), newResultsTableCmd())
	return cmd
}

type pullStats struct{ downloaded, skipped int }

// safeName checks a stored result name and returns it as a relative,
// clean, slash-separated path, or an error.
func safeName(name string) (string, error) {
	switch {
	case name == "" || strings.ContainsRune(name, 0) || strings.Contains(name, `\`):
		return "", fmt.Errorf("result name %q refused: empty or with NUL/backslash", name)
	case path.IsAbs(name) || filepath.IsAbs(name):
		return "", fmt.Errorf("result name %q refused: absolute path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("result name %q refused: contains ..", name)
		}
	}
	clean := path.Clean(name)
	if clean == "." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("result name %q refused", name)
	}
	return clean, nil
}

func fileSHA(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func pullResults(ctx context.Context, c *client.Client, name, dir string, jobs int) (pullStats, error) {
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
	open func(wire.ResultEntry) (io.ReadCloser, error)) (pullStats, error) {
	return pullBatched(ctx, dir, jobs, list, open, nil)
}

// openBatch reads several result files of one run as a tar archive.
type openBatch func(run int, names []string) (io.ReadCloser, error)

// pullBatched is pullAll that fetches the small files of a run together
// through batch, if not nil.
func pullBatched(ctx context.Context, dir string, jobs int, list func(yield func(wire.ResultEntry)) error,
	open func(wire.ResultEntry) (io.ReadCloser, error), batch openBatch) (pullStats, error) {
	var st pullStats
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
				st.downloaded += got.downloaded
				st.skipped += got.skipped
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
func pullGroup(dir string, group []wire.ResultEntry, open func(wire.ResultEntry) (io.ReadCloser, error), batch openBatch) (pullStats, error) {
	var st pullStats
	var errs []error
	var missing []wire.ResultEntry
	for _, e := range group {
		dst, err := resultPath(dir, e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sum, err := fileSHA(dst); err == nil && sum == e.SHA256 {
			st.skipped++
			continue
		}
		missing = append(missing, e)
	}
	if len(missing) > 1 && batch != nil {
		n, err := pullBatch(dir, missing, batch)
		st.downloaded += n
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
		st.downloaded++
	}
	return st, errors.Join(errs...)
}

// batchUnsupported reports the answer of a controller that predates batch
// downloads.
func batchUnsupported(err error) bool {
	return client.IsNotFound(err) && strings.Contains(err.Error(), "no such endpoint")
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

// resultPath is where a listed result file goes under dir.
func resultPath(dir string, e wire.ResultEntry) (string, error) {
	rel, err := safeName(e.Name)
	if err != nil {
		return "", fmt.Errorf("run %d: %w", e.Run, err)
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), nil
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
// what `simswarm run` leaves; os.CreateTemp would make it 0600.
func createPart(dst string) (*os.File, error) {
	for {
		p := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".part-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
}
