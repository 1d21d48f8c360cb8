package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// stateDir is the directory below a results or work directory where
// simswarm keeps its own files: the journals, the lock.
const stateDir = ".simswarm"

// openState opens the file rel (a slash path starting with stateDir) below
// base with flag, creating the directories on its way when flag creates
// (a read leaves the directory as it is). A results directory
// may come from elsewhere (unpacked, synced, shared), so nothing on the
// way may redirect simswarm's writes: a symbolic link (or anything but a
// directory) among the directories below base, or in the file's place
// anything but a regular file, is refused, naming it; a link's target is
// never opened. base itself is the user's to place where they like.
func openState(base, rel string, flag int) (*os.File, error) {
	dir, err := dirsBelow(base, path.Dir(rel), flag&os.O_CREATE != 0)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, path.Base(rel))
	if err := mustBe(p, 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(p, flag|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link, which simswarm does not follow there (remove it)", p)
	}
	return f, err
}

// dirsBelow checks the directories of rel (a slash path, "." for none)
// below base, creating them if create, and returns the last: each is
// looked at without following a link, and a link or anything but a
// directory on the way is refused, naming it, so that nothing below base
// redirects simswarm's writes.
func dirsBelow(base, rel string, create bool) (string, error) {
	dir := base
	if rel == "." || rel == "" {
		return dir, nil
	}
	for _, p := range strings.Split(rel, "/") {
		dir = filepath.Join(dir, p)
		if create {
			if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", err
			}
		}
		if err := mustBe(dir, fs.ModeDir); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// mustBe checks that path is, without following a link, a directory
// (mode fs.ModeDir) or a regular file (mode 0).
func mustBe(path string, mode fs.FileMode) error {
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link, which simswarm does not follow there (remove it)", path)
	case st.Mode().Type() != mode:
		what := "a regular file"
		if mode == fs.ModeDir {
			what = "a directory"
		}
		return fmt.Errorf("%s is not %s (remove it)", path, what)
	}
	return nil
}
