package tarball

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Pack writes a reproducible tar.gz of the given paths (files or
// directories, relative to root; "." for all of it) to w and returns its
// sha256 and size.
func Pack(root string, paths []string, w io.Writer) (string, int64, error) {
	// The tree is the build's output: every stat and open goes through an
	// os.Root, so a link in an artifact's path cannot make Pack read a file
	// from outside it.
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	var names []string
	seen := map[string]bool{}
	for _, p := range paths {
		clean := path.Clean(filepath.ToSlash(p))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return "", 0, fmt.Errorf("artifact %q is outside the source tree", p)
		}
		start := filepath.Join(root, filepath.FromSlash(clean))
		if _, err := r.Lstat(clean); err != nil {
			return "", 0, fmt.Errorf("artifact %q: %w", p, err)
		}
		err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if rel != "." && !seen[rel] {
				seen[rel] = true
				names = append(names, rel)
			}
			return nil
		})
		if err != nil {
			return "", 0, fmt.Errorf("artifact %q: %w", p, err)
		}
	}
	sort.Strings(names)

	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	gz := gzip.NewWriter(cw)
	tw := tar.NewWriter(gz)
	for _, name := range names {
		info, err := r.Lstat(name)
		if err != nil {
			return "", 0, err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = r.Readlink(name); err != nil {
				return "", 0, err
			}
		} else if !info.Mode().IsRegular() && !info.IsDir() {
			continue // sockets, devices: not artifacts
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return "", 0, err
		}
		hdr.Name = name
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return "", 0, err
		}
		if info.Mode().IsRegular() {
			f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
			if err != nil {
				return "", 0, err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return "", 0, fmt.Errorf("pack %s: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return "", 0, err
	}
	if err := gz.Close(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
