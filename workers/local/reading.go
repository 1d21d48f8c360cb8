package local

import (
	"encoding/hex"
	"io"
	"io/fs"
	"os"

	"github.com/cespare/xxhash/v2"

	"github.com/simswarm/simswarm/workers/oppcli"
)

// reading is a file left in place (runall) that collect has begun to
// read: its header was parsed from the first bytes its digest took in, so
// storing it reads on from there, and no byte of the file is read twice.
type reading struct {
	f      *os.File
	st     fs.FileInfo // when it was opened
	sum    *xxhash.Digest
	n      int64 // bytes digested so far
	h      oppcli.Header
	headed bool
	// unwatch stops hearing of the file's writes (changeLog.watchWrites)
	// once the collect no longer asks.
	unwatch func()
}

// startReading opens path and reads its header through the digest.
func startReading(path string) (*reading, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	rd := &reading{f: f, st: st, sum: xxhash.New()}
	rd.h, rd.headed = oppcli.ReadHeader(digesting{rd})
	return rd, nil
}

// digesting reads rd's file into its digest.
type digesting struct{ rd *reading }

func (d digesting) Read(p []byte) (int, error) {
	n, err := d.rd.f.Read(p)
	d.rd.sum.Write(p[:n])
	d.rd.n += int64(n)
	return n, err
}

// finish reads the rest of the file into the digest. ok is false when
// the file changed size while read; whether it is still what is at its
// path is the caller's to know (collector.untouched), or the caller reads
// the file at path afresh, as a file that may have been replaced.
func (rd *reading) finish() (digest, fs.FileInfo, bool) {
	defer rd.close()
	buf := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(buf)
	for {
		_, err := digesting{rd}.Read(*buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return digest{}, nil, false
		}
	}
	if rd.n != rd.st.Size() {
		return digest{}, nil, false
	}
	return digest{h: rd.h, headed: rd.headed, size: rd.n, sum: digestPrefix + hex.EncodeToString(rd.sum.Sum(nil))}, rd.st, true
}

func (rd *reading) close() {
	if rd.f != nil {
		rd.f.Close()
		rd.f = nil
	}
}
