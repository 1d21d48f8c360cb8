package main

import (
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

	"github.com/simswarm/simswarm/controller/apiserver"
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
sha256 are skipped, so an interrupted pull resumes; each file is written to
a temporary name, verified and renamed. Stored names that are absolute or
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
	cmd.AddCommand(pull, newResultsListCmd(), newResultsPruneCmd())
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
	list := func(yield func(apiserver.ResultEntry)) error {
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
	open := func(e apiserver.ResultEntry) (io.ReadCloser, error) { return c.OpenResult(ctx, name, e.Run, e.Name) }
	return pullAll(ctx, dir, jobs, list, open)
}

// pullAll downloads, jobs at a time, every file that list yields and
// open reads.
func pullAll(ctx context.Context, dir string, jobs int, list func(yield func(apiserver.ResultEntry)) error,
	open func(apiserver.ResultEntry) (io.ReadCloser, error)) (pullStats, error) {
	var st pullStats
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	var mu sync.Mutex
	var errs []error
	work := make(chan apiserver.ResultEntry)
	var wg sync.WaitGroup
	for i := 0; i < max(jobs, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				got, err := pullOne(dir, e, open)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case got:
					st.downloaded++
				default:
					st.skipped++
				}
				mu.Unlock()
			}
		}()
	}
	listErr := list(func(e apiserver.ResultEntry) { work <- e })
	close(work)
	wg.Wait()
	if listErr != nil {
		errs = append(errs, listErr)
	}
	return st, errors.Join(errs...)
}

// pullOne downloads one file unless it is already there; it reports
// whether it downloaded.
func pullOne(dir string, e apiserver.ResultEntry, open func(apiserver.ResultEntry) (io.ReadCloser, error)) (bool, error) {
	rel, err := safeName(e.Name)
	if err != nil {
		return false, fmt.Errorf("run %d: %w", e.Run, err)
	}
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if sum, err := fileSHA(dst); err == nil && sum == e.SHA256 {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, err
	}
	body, err := open(e)
	if err != nil {
		return false, fmt.Errorf("download %s: %w", e.Name, err)
	}
	defer body.Close()
	tmp, err := createPart(dst)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("download %s: %w", e.Name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return false, fmt.Errorf("download %s: sha256 %s, want %s", e.Name, got, e.SHA256)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return false, err
	}
	return true, nil
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
