// Package tarball is the project's one tar.gz packer and its one reader
// of archives from outside: it packs build artifacts and source trees, and
// unpacks source archives and artifacts safely.
//
//	sha, size, err := tarball.Pack(root, []string{"aloha", "omnetpp.ini"}, w)
//	err = tarball.Extract(r, dir, tarball.DefaultLimit)
//
// A Packer with settings of its own packs what else needs a digest of a
// tree (package sourcearchive: faster gzip, results/ left out); its
// settings are part of the bytes, so they must not change once digests
// are stored.
//
// Guarantees: Pack is reproducible (sorted entries, zero times and owners,
// .git left out), never follows symlinks (they are stored as links;
// sockets and devices are left out), and reads only inside root (an
// artifact path that crosses a link out of it is an error). Extract treats every archive as
// hostile and writes nothing outside dir, judged against what is on disk and
// not only by name: absolute names, ".." components, an entry under a
// symlink (one from the archive, such as the a -> ., a/l1 -> .. chain, or
// one already on disk), a symlink whose target leads out of dir once
// resolved through the other links, hard links, device files and a name
// given twice (except a repeated directory) are refused with an error
// wrapping ErrUnsafe and naming the entry. All writes go through an os.Root
// of dir. The total unpacked size is bounded. A pax global header (as `git
// archive` writes) is skipped.
package tarball
