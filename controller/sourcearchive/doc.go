// Package sourcearchive packs a model's source directory into the
// reproducible tar.gz that `simswarm apply` uploads (and the GitOps source
// stores) for spec.source.path campaigns, named by its sha256.
//
//	sha, size, err := sourcearchive.Pack(dir, w)
//
// It is package tarball's packer with the settings of a source archive
// (BestSpeed gzip, the top-level results/ left out), which are part of
// every stored source's digest.
//
// Guarantees: entries sorted by name, modification times and owners zeroed,
// .git directories, a top-level results/ and Campaign manifests (a .yaml,
// .yml or .json file naming a simswarm.io apiVersion in its first 64 KiB)
// left out, so that editing a manifest kept beside the model makes no new
// source, build or run identities; symlinks stored as
// links (never followed), special files skipped, nothing read from outside
// dir. Packing the same tree twice gives the same bytes and digest.
package sourcearchive
