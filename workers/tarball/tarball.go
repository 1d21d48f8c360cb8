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
// sha256 and size. It is Packer{}.Pack.
func Pack(root string, paths []string, w io.Writer) (string, int64, error) {
	return Packer{}.Pack(root, paths, w)
}

// Packer packs trees into reproducible tar.gz archives. The zero value
// packs build artifacts; a source archive (package sourcearchive) leaves
// out its results and compresses faster. Two Packers that differ in a
// field give different bytes, and so different digests, for one tree.
type Packer struct {
	// Level is the gzip level (compress/gzip); 0 means
	// gzip.DefaultCompression, as no one packs uncompressed.
	Level int
	// Skip, if set, is asked about every directory (its slash-separated
	// path relative to root) and leaves it out, with everything under it,
	// when it says so. .git directories are always left out.
	Skip func(dir string) bool
	// SkipFile, if set, is asked about every regular file (its path
	// relative to root, and the root to read it through) and leaves it
	// out when it says so.
	SkipFile func(r *os.Root, name string) bool
}

// Pack writes a tar.gz of the given paths (files or directories, relative
// to root; "." for all of it) to w and returns its sha256 and size.
func (p Packer) Pack(root string, paths []string, w io.Writer) (string, int64, error) {
	// The tree may be a build's output: every stat and open goes through an
	// os.Root, so a link in a path cannot make Pack read a file from
	// outside it.
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	names, err := p.names(r, root, paths)
	if err != nil {
		return "", 0, err
	}
	level := p.Level
	if level == 0 {
		level = gzip.DefaultCompression
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	gz, err := gzip.NewWriterLevel(cw, level)
	if err != nil {
		return "", 0, err
	}
	tw := tar.NewWriter(gz)
	for _, name := range names {
		if err := add(tw, r, name); err != nil {
			return "", 0, err
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

// names lists the entries under paths, sorted, each once. Its errors
// speak of artifacts: only a build's artifact list names paths other than
// "." (a source is packed whole).
func (p Packer) names(r *os.Root, root string, paths []string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for _, arg := range paths {
		clean := path.Clean(filepath.ToSlash(arg))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("artifact %q is outside the source tree", arg)
		}
		if _, err := r.Lstat(clean); err != nil {
			return nil, fmt.Errorf("artifact %q: %w", arg, err)
		}
		start := filepath.Join(root, filepath.FromSlash(clean))
		err := filepath.WalkDir(start, func(fp string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, fp)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if d.IsDir() && (d.Name() == ".git" || rel != "." && p.Skip != nil && p.Skip(rel)) {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() && p.SkipFile != nil && p.SkipFile(r, rel) {
				return nil
			}
			if rel != "." && !seen[rel] {
				seen[rel] = true
				names = append(names, rel)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("artifact %q: %w", arg, err)
		}
	}
	sort.Strings(names)
	return names, nil
}

// add writes the entry name of r: files with their bytes, directories,
// symlinks as links; other kinds (sockets, devices) are left out.
func add(tw *tar.Writer, r *os.Root, name string) error {
	info, err := r.Lstat(name)
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = r.Readlink(name); err != nil {
			return err
		}
	} else if !info.Mode().IsRegular() && !info.IsDir() {
		return nil
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	hdr.Format = tar.FormatPAX
	hdr.PAXRecords = nil
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("pack %s: %w", name, err)
	}
	return nil
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
