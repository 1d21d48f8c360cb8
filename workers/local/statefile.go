package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// stateDir is the directory below a results or work directory where
// simswarm keeps its own files: the journals, the lock.
const stateDir = ".simswarm"

// openState opens the file rel (a slash path starting with stateDir) below
// base with flag, creating the directories on its way. A results directory
// may come from elsewhere (unpacked, synced, shared), so nothing on the
// way may redirect simswarm's writes: a symbolic link (or anything but a
// directory) among the directories below base, or in the file's place
// anything but a regular file, is refused, naming it; a link's target is
// never opened. base itself is the user's to place where they like.
func openState(base, rel string, flag int) (*os.File, error) {
	parts := strings.Split(rel, "/")
	dir := base
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if err := mustBe(dir, fs.ModeDir); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(dir, parts[len(parts)-1])
	if err := mustBe(path, 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: simswarm keeps its own state there in regular files (remove the link)", path)
	}
	return f, err
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
		return fmt.Errorf("%s is a symbolic link: simswarm keeps its own state there in regular files (remove the link)", path)
	case st.Mode().Type() != mode:
		what := "a regular file"
		if mode == fs.ModeDir {
			what = "a directory"
		}
		return fmt.Errorf("%s is not %s: simswarm keeps its own state there (remove it)", path, what)
	}
	return nil
}
