package local

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifyChanges hears of every change below a directory tree through
// inotify: created, written, closed, moved, removed files, and new
// directories, whose files it lists when it starts watching them (they
// may have been written before). It is read without blocking when asked,
// so that what a caller asks after a file was written (its process said
// it finished the run, or exited) includes that file: the kernel queues an
// event before the write or close returns.
type inotifyChanges struct {
	fd   int
	dirs map[int]string // watch descriptor -> directory
	// files holds the watch descriptors of files whose writes are heard
	// (watchWrites). A descriptor stays until its IN_IGNORED is read, so
	// that the events queued before its removal are still its file's.
	files map[int]*watchedFile
	skip  string // a directory left out (simswarm's own)
	buf   []byte
	lost  bool
}

// watchedFile is a file whose writes are heard: the paths it was watched
// at, and how many watch it now.
type watchedFile struct {
	paths map[string]bool
	refs  int
}

// fileEvents are the changes to a directory's files that make a file worth
// looking at again. Not IN_MODIFY: see changeLog.
const fileEvents = unix.IN_CREATE | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB |
	unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// writeEvents are what a watched file's writer does to it (a truncation
// is IN_MODIFY too).
const writeEvents = unix.IN_MODIFY | unix.IN_ATTRIB

// watchChanges starts hearing of changes below root, leaving out skip; nil
// when inotify is not at hand (too many watches, another filesystem's
// limits): the caller then lists the tree every time.
func watchChanges(root, skip string) changeLog {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	w := &inotifyChanges{fd: fd, dirs: map[int]string{}, files: map[int]*watchedFile{}, skip: skip, buf: make([]byte, 64<<10)}
	var files []string
	if !w.add(root, &files) {
		w.close()
		return nil
	}
	return w
}

// add watches dir and the directories below it, and appends the files in
// them to files (written before the watch began); false when it cannot.
func (w *inotifyChanges) add(dir string, files *[]string) bool {
	if dir == w.skip {
		return true
	}
	wd, err := unix.InotifyAddWatch(w.fd, dir, fileEvents|unix.IN_ONLYDIR|unix.IN_DONT_FOLLOW)
	if err != nil {
		// A directory gone since it was announced holds nothing.
		return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
	}
	w.dirs[wd] = dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if !w.add(p, files) {
				return false
			}
			continue
		}
		*files = append(*files, p)
	}
	return true
}

func (w *inotifyChanges) changed() ([]string, bool) {
	if w.lost {
		return nil, false
	}
	var out []string
	for {
		n, err := unix.Read(w.fd, w.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return out, true
		}
		if err != nil || n <= 0 {
			w.lost = true
			return nil, false
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&w.buf[off]))
			nameBytes := w.buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			name := string(bytes.TrimRight(nameBytes, "\x00"))
			mask := ev.Mask
			dir, ok := w.dirs[int(ev.Wd)]
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				w.lost = true // events were dropped: nothing is known
				return nil, false
			case mask&unix.IN_IGNORED != 0:
				delete(w.dirs, int(ev.Wd))
				delete(w.files, int(ev.Wd))
				continue
			case !ok:
				if f := w.files[int(ev.Wd)]; f != nil {
					for p := range f.paths {
						out = append(out, p) // a watched file written to
					}
				}
				continue
			case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0:
				// A watched directory moved or went: the paths known
				// below it are no longer where the files are.
				w.lost = true
				return nil, false
			case name == "":
				continue
			}
			p := filepath.Join(dir, name)
			if mask&unix.IN_ISDIR == 0 {
				out = append(out, p)
				continue
			}
			if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 && !w.add(p, &out) {
				w.lost = true
				return nil, false
			}
			if mask&unix.IN_MOVED_FROM != 0 {
				w.lost = true // a directory moved away: its watches name old paths
				return nil, false
			}
		}
	}
}

func (w *inotifyChanges) watchWrites(path string) (func(), bool) {
	if w.lost || w.fd < 0 {
		return nil, false
	}
	wd, err := unix.InotifyAddWatch(w.fd, path, writeEvents|unix.IN_DONT_FOLLOW)
	if err != nil {
		return nil, false
	}
	f := w.files[wd]
	if f == nil || f.refs == 0 {
		// New, or removed and its IN_IGNORED not read yet (the kernel
		// gave the same descriptor again): a watch of its own from now.
		f = &watchedFile{paths: map[string]bool{}}
		w.files[wd] = f
	}
	f.paths[path] = true
	f.refs++
	done := false
	return func() {
		if done {
			return
		}
		done = true
		if f.refs--; f.refs == 0 && w.fd >= 0 {
			// Its IN_IGNORED takes it out of files, after the events
			// queued before it.
			_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
		}
	}, true
}

func (w *inotifyChanges) close() error {
	if w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	return err
}
