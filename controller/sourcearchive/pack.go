package sourcearchive

import (
	"compress/gzip"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"syscall"

	"github.com/simswarm/simswarm/workers/tarball"
)

// Pack writes a reproducible tar.gz of dir to w (sorted names, zero times
// and owners, .git, results/ and Campaign manifests left out) and returns
// its sha256 and size. The same tree always gives the same digest, so the
// same source applied twice is a build cache hit.
func Pack(dir string, w io.Writer) (string, int64, error) {
	// BestSpeed and the skipped results/ are part of the digest: changing
	// either would make every stored source a cache miss.
	p := tarball.Packer{Level: gzip.BestSpeed, Skip: func(d string) bool { return d == "results" }, SkipFile: isManifest}
	return p.Pack(dir, []string{"."}, w)
}

// manifestHead is how much of a YAML or JSON file isManifest reads: a
// manifest says its apiVersion near the top.
const manifestHead = 64 << 10

// apiVersionLine is a simswarm apiVersion field, in YAML or JSON.
var apiVersionLine = regexp.MustCompile(`"?apiVersion"?[ \t]*:[ \t]*"?simswarm\.io/`)

// isManifest says whether the file name of r is a Campaign manifest (a
// .yaml, .yml or .json file whose first 64 KiB give a simswarm.io
// apiVersion). Manifests are left out of the source: one often lives in
// the model's directory (source.path: .), and editing it (more runs,
// another priority) must not make a new source, so a new build and runs
// that are no longer reused.
func isManifest(r *os.Root, name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
	default:
		return false
	}
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	head, _ := io.ReadAll(io.LimitReader(f, manifestHead))
	return apiVersionLine.Match(head)
}
