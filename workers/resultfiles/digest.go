package resultfiles

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
)

// hashBufs are FileSHA256's read buffers: result files run to hundreds of
// megabytes, and io.Copy's fresh 32 KiB buffer per file meant a read
// system call per 32 KiB and new pages for every file.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// FileSHA256 is the sha256 of the file at path, in hex: the digest result
// files are stored, listed and verified by.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	// io.CopyBuffer would hand the copy to the file's WriteTo, which
	// allocates its own buffer: read by hand.
	for {
		n, err := f.Read(*buf)
		h.Write((*buf)[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
