package builder

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/simswarm/simswarm/api"
)

// modelKey names the model a build makes, for the identities of its runs
// (package runidentity): a digest of the source tree without its ini files
// and its .git directory, the build recipe and the toolchain image.
//
// The artifact itself cannot be the key: builds are not reproducible
// (OMNeT++'s makefiles compile the build directory's path into the
// program, and every build runs in a directory of its own), and the
// artifact holds the ini files, which change whenever a sweep grows. The
// ini files are left out because each run's identity holds the resolved
// configuration the program read from them (-q runconfig); everything
// else a build reads is in.
func modelKey(b api.BuildSpec, src string) (string, error) {
	h := sha256.New()
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		io.WriteString(h, s)
	}
	recipe, _ := json.Marshal(struct {
		Command   []string          `json:"command"`
		Env       map[string]string `json:"env"`
		Artifacts []string          `json:"artifacts"`
		Image     string            `json:"image"`
		Prebuilt  bool              `json:"prebuilt"`
	}{b.Command, b.Env, b.Artifacts, b.Image, b.Prebuilt})
	put("simswarm-model/1")
	put(string(recipe))
	root, err := os.OpenRoot(src)
	if err != nil {
		return "", err
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == ".git" && d.IsDir() {
			return fs.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			put("d " + name)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := root.Readlink(name)
			if err != nil {
				return err
			}
			put("l " + name)
			put(target)
		case info.Mode().IsRegular():
			if strings.HasSuffix(path.Base(name), ".ini") {
				return nil
			}
			f, err := root.Open(name)
			if err != nil {
				return err
			}
			fh := sha256.New()
			_, err = io.Copy(fh, f)
			f.Close()
			if err != nil {
				return err
			}
			put(fmt.Sprintf("f %s %o", name, info.Mode().Perm()&0o111))
			put(hex.EncodeToString(fh.Sum(nil)))
		default:
			put("o " + name)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("model key of the source: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
