package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/tarball"
)

// Cache holds unpacked build artifacts, one directory per build key.
type Cache struct {
	dir string
	db  *mongo.Database
}

// NewCache keeps artifacts under dir, fetched from db's GridFS.
func NewCache(dir string, db *mongo.Database) *Cache { return &Cache{dir: dir, db: db} }

// completeMarker is written last into an unpacked artifact.
const completeMarker = ".simswarm-complete"

// Get returns the directory holding the unpacked artifact of key,
// downloading it first if no runner on this host has yet.
func (c *Cache) Get(ctx context.Context, key string) (string, error) {
	if !validKey(key) {
		return "", refuse(fmt.Errorf("invalid artifact key %q", key))
	}
	final := filepath.Join(c.dir, key)
	if _, err := os.Stat(filepath.Join(final, completeMarker)); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(c.dir, key+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	// Other runner processes on this host wait here instead of downloading
	// the same artifact again.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock artifact cache: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if _, err := os.Stat(filepath.Join(final, completeMarker)); err == nil {
		return final, nil
	}
	if err := c.fetch(ctx, key, final); err != nil {
		return "", err
	}
	return final, nil
}

func (c *Cache) fetch(ctx context.Context, key, final string) error {
	var rec schema.BuildRecord
	if err := c.db.Collection(schema.CollBuilds).FindOne(ctx, bson.M{"_id": key}).Decode(&rec); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return refuse(fmt.Errorf("build %s: no build record", key))
		}
		return fmt.Errorf("build record %s: %w", key, err)
	}
	if rec.State != schema.BuildSucceeded {
		return refuse(fmt.Errorf("build %s is %s, not Succeeded", key, rec.State))
	}
	tmpFile, err := os.CreateTemp(c.dir, ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmpFile.Name())
	defer tmpFile.Close()
	stream, err := gridfs.OpenByName(ctx, c.db, schema.BucketArtifacts, schema.ArtifactName(key))
	if errors.Is(err, mongo.ErrFileNotFound) {
		return refuse(fmt.Errorf("artifact %s is not stored", key))
	}
	if err != nil {
		return fmt.Errorf("open artifact %s: %w", key, err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmpFile, h), stream)
	stream.Close()
	if err != nil {
		return fmt.Errorf("download artifact %s: %w", key, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); rec.SHA256 != "" && sum != rec.SHA256 {
		return refuse(fmt.Errorf("artifact %s: sha256 %s does not match the build record's %s", key, sum, rec.SHA256))
	}
	if _, err := tmpFile.Seek(0, io.SeekStart); err != nil {
		return err
	}
	unpack, err := os.MkdirTemp(c.dir, ".unpack-*")
	if err != nil {
		return err
	}
	if err := tarball.Extract(tmpFile, unpack, tarball.DefaultLimit); err != nil {
		os.RemoveAll(unpack)
		err = fmt.Errorf("unpack artifact %s: %w", key, err)
		if errors.Is(err, tarball.ErrUnsafe) || !localError(err) {
			// The bytes are the builder's (their digest matched): any
			// delivery would meet the same.
			return refuse(err)
		}
		return err
	}
	if err := writeMarker(unpack); err != nil {
		os.RemoveAll(unpack)
		return fmt.Errorf("unpack artifact %s: %w", key, err)
	}
	os.RemoveAll(final) // a half-unpacked leftover of a crashed runner
	if err := os.Rename(unpack, final); err != nil {
		os.RemoveAll(unpack)
		return fmt.Errorf("install artifact %s: %w", key, err)
	}
	return nil
}

// writeMarker creates the complete marker in dir, never through a link: an
// artifact that brought its own marker (or a link by that name) is refused
// rather than trusted to say it is complete.
func writeMarker(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := root.OpenFile(completeMarker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s (does the artifact carry one?): %w", completeMarker, err)
	}
	return f.Close()
}

// validKey accepts the hex keys schema.BuildKey makes (and nothing that could
// name another directory).
func validKey(key string) bool {
	if key == "" || len(key) > 128 {
		return false
	}
	for _, c := range key {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// localError reports whether err is this host's (a file system call that
// failed: a full disk, a permission), not the archive's.
func localError(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	return errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &se)
}

// workingDirOf is the directory a run starts in: wd (the manifest's
// spec.simulation.workingDir) inside the unpacked artifact. One the
// artifact lacks is refused with the field's name (the runs of a model
// that needs a framework start inside the build's artifacts, not in its
// source tree).
func workingDirOf(artifact, wd string) (string, error) {
	if wd == "" {
		wd = "."
	}
	root, err := os.OpenRoot(artifact)
	if err != nil {
		return "", err
	}
	defer root.Close()
	// Through the os.Root: a link in the artifact cannot lead the run out of it.
	st, err := root.Stat(filepath.FromSlash(wd))
	if err != nil || !st.IsDir() {
		return "", refuse(fmt.Errorf("spec.simulation.workingDir %q is not a directory in the build's artifacts", wd))
	}
	return filepath.Join(artifact, filepath.FromSlash(wd)), nil
}
