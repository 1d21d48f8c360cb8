package tarball

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultLimit bounds what Extract unpacks: 16 GiB.
const DefaultLimit int64 = 16 << 30

// Pack writes a reproducible tar.gz of the given paths (files or
// directories, relative to root; "." for all of it) to w and returns its
// sha256 and size.
func Pack(root string, paths []string, w io.Writer) (string, int64, error) {
	var names []string
	seen := map[string]bool{}
	for _, p := range paths {
		clean := path.Clean(filepath.ToSlash(p))
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return "", 0, fmt.Errorf("artifact %q is outside the source tree", p)
		}
		start := filepath.Join(root, filepath.FromSlash(clean))
		if _, err := os.Lstat(start); err != nil {
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
		full := filepath.Join(root, filepath.FromSlash(name))
		info, err := os.Lstat(full)
		if err != nil {
			return "", 0, err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(full); err != nil {
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
			f, err := os.Open(full)
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

// ErrUnsafe marks an archive entry that Extract refused.
var ErrUnsafe = errors.New("unsafe archive entry")

// Extract unpacks the tar.gz r into dir (created if missing), refusing
// anything that would land outside it and stopping past limit bytes.
func Extract(r io.Reader, dir string, limit int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a tar.gz: %w", err)
	}
	tr := tar.NewReader(gz)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name, err := safePath(hdr.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		mode := fs.FileMode(hdr.Mode) & 0o777
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			total += hdr.Size
			if total > limit {
				return fmt.Errorf("archive unpacks to more than %d bytes", limit)
			}
			if err := writeFile(target, tr, mode|0o600); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		case tar.TypeSymlink:
			// The link must resolve inside dir from where it stands.
			if path.IsAbs(hdr.Linkname) {
				return fmt.Errorf("%w: %s links to absolute path %s", ErrUnsafe, name, hdr.Linkname)
			}
			if _, err := safePath(path.Join(path.Dir(name), hdr.Linkname)); err != nil {
				return fmt.Errorf("%w: %s links outside the archive (%s)", ErrUnsafe, name, hdr.Linkname)
			}
			_ = os.Remove(target)
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %s has type %q (only files, directories and symlinks)", ErrUnsafe, name, hdr.Typeflag)
		}
	}
}

// safePath cleans an archive name and refuses absolute ones and ".."
// components.
func safePath(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w: empty or invalid name %q", ErrUnsafe, name)
	}
	if path.IsAbs(name) || strings.HasPrefix(name, `\`) || filepath.IsAbs(name) {
		return "", fmt.Errorf("%w: absolute path %s", ErrUnsafe, name)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%w: %s leaves the archive's directory", ErrUnsafe, name)
	}
	return clean, nil
}

// writeFile creates target fresh: an existing symlink there is replaced,
// never followed.
func writeFile(target string, r io.Reader, mode fs.FileMode) error {
	_ = os.Remove(target)
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
