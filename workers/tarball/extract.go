package tarball

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultLimit bounds what Extract unpacks: 16 GiB.
const DefaultLimit int64 = 16 << 30

// ErrUnsafe marks an archive entry that Extract refused.
var ErrUnsafe = errors.New("unsafe archive entry")

// maxLinkHops bounds how many links one link's resolution may pass through
// (the kernel's own limit is 40).
const maxLinkHops = 40

// Extract unpacks the tar.gz r into dir (created if missing), refusing
// anything that would land outside it and stopping past limit bytes.
//
// Every name is checked against what is already on disk, not only by its
// spelling: an entry is never created through a symlink (whether the
// archive made it or it was there before), each link's target is resolved
// through the links already unpacked and refused if it leads out of dir, and
// all writes go through an os.Root of dir, which the kernel keeps from
// escaping. A name may appear once (a directory may be repeated).
func Extract(r io.Reader, dir string, limit int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a tar.gz: %w", err)
	}
	x := &extractor{root: root, seen: map[string]byte{}}
	tr := tar.NewReader(gz)
	var total int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return x.checkLinks()
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // archive-wide pax records (git archive's commit id), not a file
		}
		name, err := safePath(hdr.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		if err := x.claim(name, hdr.Typeflag); err != nil {
			return err
		}
		if err := x.parents(name); err != nil {
			return err
		}
		mode := fs.FileMode(hdr.Mode) & 0o777
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = x.mkdir(name, mode|0o700)
		case tar.TypeReg:
			total += hdr.Size
			if total > limit {
				return fmt.Errorf("archive unpacks to more than %d bytes (at %s)", limit, name)
			}
			err = x.writeFile(name, tr, mode|0o600)
		case tar.TypeSymlink:
			err = x.symlink(name, hdr.Linkname)
		default:
			return fmt.Errorf("%w: %s has type %q (only files, directories and symlinks)", ErrUnsafe, name, hdr.Typeflag)
		}
		if err != nil {
			if errors.Is(err, ErrUnsafe) {
				return err
			}
			return fmt.Errorf("unpack %s: %w", name, err)
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

type extractor struct {
	root  *os.Root
	seen  map[string]byte // name -> tar type flag of its entry
	links []string        // symlinks made, in archive order
}

// claim refuses a second entry for a name: a later entry would replace an
// earlier one (a link by a directory, a file by a link), which is how
// archives smuggle writes through links, and a reader looking for one file
// (the campaign expander reads omnetpp.ini) would see another than the
// builder. Repeating a directory is harmless.
func (x *extractor) claim(name string, typ byte) error {
	prev, dup := x.seen[name]
	if dup && !(prev == tar.TypeDir && typ == tar.TypeDir) {
		return fmt.Errorf("%w: %s appears twice in the archive", ErrUnsafe, name)
	}
	x.seen[name] = typ
	return nil
}

// parents makes the directories above name, one component at a time, and
// refuses to go through anything that is not a real directory: a link made
// by an earlier entry (the a -> ., a/l1 -> .., a/l1/l2/file chain) or one
// found on disk.
func (x *extractor) parents(name string) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		st, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		case err != nil:
			return fmt.Errorf("unpack %s: %w", name, err)
		case st.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%w: %s goes through the symlink %s", ErrUnsafe, name, p)
		case !st.IsDir():
			return fmt.Errorf("%w: %s goes through %s, which is not a directory", ErrUnsafe, name, p)
		}
	}
	return nil
}

// mkdir makes a directory entry; a link found in its place (one that was on
// disk before) is replaced, never followed.
func (x *extractor) mkdir(name string, mode fs.FileMode) error {
	st, err := x.root.Lstat(name)
	if err == nil && st.IsDir() {
		return nil
	}
	if err == nil {
		if err := x.root.Remove(name); err != nil {
			return err
		}
	}
	return x.root.Mkdir(name, mode)
}

// writeFile creates name fresh: whatever was there is removed first and the
// file is opened with O_EXCL, so an existing link is replaced, never
// followed.
func (x *extractor) writeFile(name string, r io.Reader, mode fs.FileMode) error {
	if err := x.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := x.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// symlink makes a link whose target is hostile until shown otherwise: it
// must be relative and resolve inside the root through the links unpacked
// so far. checkLinks repeats that once everything is on disk, for links
// whose targets cross links that came later.
func (x *extractor) symlink(name, target string) error {
	if target == "" || strings.ContainsRune(target, 0) {
		return fmt.Errorf("%w: %s links to an empty or invalid target", ErrUnsafe, name)
	}
	if path.IsAbs(target) || strings.HasPrefix(target, `\`) {
		return fmt.Errorf("%w: %s links to absolute path %s", ErrUnsafe, name, target)
	}
	if err := x.resolvesInside(name, target); err != nil {
		return err
	}
	if err := x.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := x.root.Symlink(target, name); err != nil {
		return err
	}
	x.links = append(x.links, name)
	return nil
}

// checkLinks resolves every link made against the finished tree; a link
// that now leads out is removed (so nothing that reads the tree later
// follows it) and the archive refused.
func (x *extractor) checkLinks() error {
	for _, name := range x.links {
		target, err := x.root.Readlink(name)
		if err != nil {
			return fmt.Errorf("unpack %s: %w", name, err)
		}
		if err := x.resolvesInside(name, target); err != nil {
			_ = x.root.Remove(name)
			return err
		}
	}
	return nil
}

// resolvesInside follows the link name -> target the way the kernel would,
// through the links on disk, and refuses it if it climbs above the root or
// reaches an absolute link. Parts that do not exist yet resolve by name.
func (x *extractor) resolvesInside(name, target string) error {
	// cur holds the resolved components: real directories (parents never
	// cross links, see parents) or names not on disk.
	cur := strings.Split(path.Dir(name), "/")
	if cur[0] == "." {
		cur = nil
	}
	pending := strings.Split(target, "/")
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return fmt.Errorf("%w: %s links outside the archive (%s)", ErrUnsafe, name, target)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		p := strings.Join(append(cur[:len(cur):len(cur)], c), "/")
		st, err := x.root.Lstat(p)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			cur = append(cur, c)
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("%w: %s: too many levels of links (%s)", ErrUnsafe, name, target)
		}
		next, err := x.root.Readlink(p)
		if err != nil {
			return fmt.Errorf("unpack %s: %w", name, err)
		}
		if path.IsAbs(next) {
			return fmt.Errorf("%w: %s links through %s to absolute path %s", ErrUnsafe, name, p, next)
		}
		pending = append(strings.Split(next, "/"), pending...)
	}
	return nil
}
