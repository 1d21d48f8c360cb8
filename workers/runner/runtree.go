package runner

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/resultfiles"
)

// linkTree makes runDir the private tree one attempt runs in: the
// artifact's directories as real directories, its files as links into the
// cache and its own links as they are (the artifact's links stay inside
// it, see tarball.Extract). The program runs in runDir/workingDir, writes
// where it would in the artifact (its own result-dir, subdirectories, .out
// files), and everything it creates lands in runDir: nothing reaches the
// cache the next run reads, nor another run's files. A file costs a link,
// not a copy, so a framework's tree is cheap. Files of the artifact that
// the result globs would match (results shipped with the source) are left
// out, so that they are neither stored as this run's nor written through.
// It returns the program's working directory.
func linkTree(artifact, runDir, workingDir string, globs []string) (string, error) {
	cwd := filepath.Join(artifact, filepath.FromSlash(workingDir))
	err := filepath.WalkDir(artifact, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(artifact, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(runDir, rel)
		switch {
		case d.IsDir():
			if rel == "." {
				return nil
			}
			return os.Mkdir(dst, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			if r, err := filepath.Rel(cwd, p); err == nil && matchesAny(globs, filepath.ToSlash(r)) {
				return nil
			}
			return os.Symlink(p, dst)
		}
		return nil // nothing else is unpacked
	})
	if err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	wd := filepath.Join(runDir, filepath.FromSlash(workingDir))
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return "", fmt.Errorf("run directory: %w", err)
	}
	return wd, nil
}

func matchesAny(globs []string, rel string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// maxRedirectedError bounds what is read of a run's redirected output for
// its error.
const maxRedirectedError = 64 << 10

// redirectedError replaces Cmdenv's "<!> Error -- see FILE for details"
// (what it prints when the run's output is redirected) in a failed run's
// stderr tail with the error lines of FILE, read inside runDir only: the
// name is the program's and is not trusted to stay there.
func redirectedError(runDir, cwd, tail string) string {
	for _, line := range strings.Split(tail, "\n") {
		file, ok := oppcli.RedirectedError(strings.TrimSpace(line))
		if !ok {
			continue
		}
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		rel, err := filepath.Rel(runDir, p)
		if err != nil || !filepath.IsLocal(rel) {
			return tail
		}
		root, err := os.OpenRoot(runDir)
		if err != nil {
			return tail
		}
		defer root.Close()
		f, err := root.Open(rel)
		if err != nil {
			return tail
		}
		defer f.Close()
		// The error is the output's last words.
		if st, err := f.Stat(); err == nil && st.Size() > maxRedirectedError {
			if _, err := f.Seek(st.Size()-maxRedirectedError, io.SeekStart); err != nil {
				return tail
			}
		}
		var errs []string
		sc := bufio.NewScanner(io.LimitReader(f, maxRedirectedError))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "<!> Error") {
				errs = append(errs, sc.Text())
			}
		}
		if len(errs) == 0 {
			return tail
		}
		return strings.Replace(tail, line, strings.Join(errs, "\n"), 1)
	}
	return tail
}

// pathsOf are the files' paths on disk.
func pathsOf(files []resultfiles.Found) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}
