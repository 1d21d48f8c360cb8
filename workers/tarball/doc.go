// Package tarball packs build artifacts into tar.gz and unpacks source
// archives and artifacts safely.
//
//	sha, size, err := tarball.Pack(root, []string{"aloha", "omnetpp.ini"}, w)
//	err = tarball.Extract(r, dir, tarball.DefaultLimit)
//
// Guarantees: Pack is reproducible (sorted entries, zero times and owners)
// and never follows symlinks. Extract writes nothing outside dir: absolute
// names, ".." components, links pointing out of dir, hard links and device
// files are refused with an error naming the entry, and the total unpacked
// size is bounded.
package tarball
