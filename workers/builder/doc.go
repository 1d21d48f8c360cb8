// Package builder builds a campaign's model once (schema.TypeBuild tasks):
// it fetches the source (a git commit, or the archive `simswarm apply`
// uploaded), runs the build command with make's parallelism, compiling
// through distcc on every node when a distcc host list is known, and stores
// the declared artifacts in GridFS under the build's content key.
//
//	b := &builder.Handler{DB: db, Hosts: builder.RedisHosts{Client: rdb}, WorkDir: dir}
//	mux.HandleFunc(schema.TypeBuild, b.ProcessTask)
//
// A task that carries the campaign's simulation also asks the built program
// which runs the campaign has (`-q runs`, with its -r filter) and saves the
// answer with the build (package runlist) before the build is marked
// Succeeded. It asks in the artifacts unpacked as a runner unpacks them
// (from the packed file after a build, from the stored artifact on a cache
// hit), never in the source tree, whose ini files, NED files and
// directories the runners may not get. The program's refusal is saved as
// the list's failure, and so is a spec.simulation.workingDir that is not a
// directory in the artifacts; artifacts that a runner would refuse to
// unpack (a link out of the tree) fail the build.
//
// With the list it records each run's identity (package runidentity),
// from the program's `-q runconfig -r 0` and `-q rundetails` (streamed through a scanner), so that
// the controller can reuse runs already done. The identity rests on the
// build's model key (recorded on the build): a digest of the source tree
// without ini files and .git, the recipe and the image - not on the
// artifact, since builds are not reproducible and the artifact holds the
// ini files that change when a sweep grows. A program that cannot answer
// the query gets its list without identities (IdentityError says why).
// Its `-q runconfig -r 0` is asked first: a program that cannot answer it
// has its list stored as it writes it (runlist.Writer: compressed and
// uploaded alongside the program, the record written once the program
// listed every run without fault), so that a million-run list is stored
// when the program ends rather than a second later; a list cut short
// (the program failed, the builder stopped) is never recorded.
//
// A build that ended, and a run list listed on a cache hit, is announced
// (Handler.Changed, a schema.BuildAnnouncement): the controller reconciles
// the campaign at once, and its first records wait for that pass.
//
// Through distcc, the build's environment has CC="distcc gcc" and
// CXX="distcc g++" (or distcc before the spec's own CC and CXX) and
// distcc's masquerade directory (Handler.DistccMasquerade, default
// /usr/lib/distcc) first on PATH when it exists, so that makefiles which
// name their compilers themselves (OMNeT++'s Makefile.inc: CXX = g++)
// compile through distcc too.
//
// Guarantees: the artifact is packed into a file and uploaded from it in
// bounded inserts, so memory does not grow with its size (a 200 MB
// artifact peaks around 80 MiB resident; the runner's
// TestLargeArtifactStreamsWithBoundedMemory bounds it). A key whose build
// already succeeded is never built again (a second campaign on the same
// source, recipe and toolchain is a cache hit); the distcc host list is
// read at the start of every build, so the stack reconciler can change it
// without restarting the builder; a failed build is recorded with the tail
// of its log and is not retried by the queue. Every
// delivery ends with an outcome or hands the task back: an error the
// queue retries (MongoDB, the local disk) fails the build on the task's
// last delivery, a panic at once, each logged once at warning level.
package builder
