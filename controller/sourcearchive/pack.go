package sourcearchive

import (
	"compress/gzip"
	"io"

	"github.com/simswarm/simswarm/workers/tarball"
)

// Pack writes a reproducible tar.gz of dir to w (sorted names, zero times
// and owners, .git and results/ left out) and returns its sha256 and size.
// The same tree always gives the same digest, so the same source applied
// twice is a build cache hit.
func Pack(dir string, w io.Writer) (string, int64, error) {
	// BestSpeed and the skipped results/ are part of the digest: changing
	// either would make every stored source a cache miss.
	p := tarball.Packer{Level: gzip.BestSpeed, Skip: func(d string) bool { return d == "results" }}
	return p.Pack(dir, []string{"."}, w)
}
