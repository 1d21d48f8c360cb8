package local

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/simswarm/simswarm/workers/procexec"
)

// syncTree copies src into dst, skipping files whose size and modification
// time already match (so that a second `simswarm run` rebuilds only what
// changed) and the directories in skip (the work and results directories,
// which may live inside the source). Modification times are preserved
// because make decides on them.
func syncTree(src, dst string, skip []string) error {
	src, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	skipAbs := map[string]bool{}
	for _, s := range skip {
		if a, err := filepath.Abs(s); err == nil {
			skipAbs[a] = true
		}
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipAbs[path] && path != src {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if d.Name() == ".simswarm" && path != src {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			_ = os.Remove(target)
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			if st, err := os.Stat(target); err == nil && st.Size() == info.Size() && st.ModTime().Equal(info.ModTime()) {
				return nil
			}
			return copyFile(path, target, info)
		default:
			return nil // sockets, devices: not source
		}
	})
}

func copyFile(src, dst string, info fs.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".simswarm-tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, info.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, info.ModTime(), info.ModTime()); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// GitCheckout makes dst a clone of url at commit, reusing an earlier clone.
func GitCheckout(ctx context.Context, url, commit, dst string) error {
	if _, err := os.Stat(filepath.Join(dst, ".git")); err != nil {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := git(ctx, "", "clone", "--quiet", "--", url, dst); err != nil {
			return err
		}
	} else if err := git(ctx, dst, "fetch", "--quiet", "--", url); err != nil {
		return err
	}
	return git(ctx, dst, "checkout", "--quiet", "--force", commit, "--")
}

func git(ctx context.Context, dir string, args ...string) error {
	res := procexec.Run(ctx, procexec.Cmd{Argv: append([]string{"git"}, args...), Dir: dir})
	if !res.Success() {
		return fmt.Errorf("git %s: %s: %s", args[0], res.Describe(), strings.TrimSpace(res.StderrTail))
	}
	return nil
}
