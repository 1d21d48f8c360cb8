package local

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/simswarm/simswarm/workers/oppcli"
)

// modelKey digests what the program loads besides its ini files, which
// -q runconfig and -q rundetails resolve: the program file's content, each
// -l library's (lib/x or lib/libx.so, as opp_run finds it), and the
// content and relative path of every NED file on the NED path (-n,
// OMNETPP_NED_PATH, NEDPATH, else the working directory, as OMNeT++ 6.1's
// envirbase.cc builds it; the ini's ned-path is added by the caller from
// the resolved configuration), with the files each NED file reads
// (hashNED). A file that is missing is named as missing, so that its
// appearing changes the key. skip are directories left out of the NED walk.
func modelKey(inv oppcli.Invocation, dir string, env []string, skip []string) (string, error) {
	h := sha256.New()
	prog := programFile(inv)
	place := prog // found on PATH: the absolute path it was found at
	if strings.ContainsRune(inv.Args[0], '/') {
		place = programPlace(dir, prog)
	}
	if err := hashFile(h, "program", place, inDir(dir, prog)); err != nil {
		return "", err
	}
	for _, lib := range optionValues(inv, 'l') {
		for _, p := range libraryFiles(lib) {
			if err := hashFile(h, "library", placeOf(dir, p), inDir(dir, p)); err != nil {
				return "", err
			}
		}
	}
	var path []string
	for _, n := range optionValues(inv, 'n') {
		path = append(path, splitPath(n)...)
	}
	for _, v := range []string{"OMNETPP_NED_PATH", "NEDPATH"} {
		path = append(path, splitPath(getenv(env, v))...)
	}
	if len(path) == 0 {
		// An ini's ned-path may still come in place of it: hashing the
		// working directory's NED files too is more than the program
		// loads, never less.
		path = []string{"."}
	}
	ned, err := nedDigest(dir, nedDirs(path, dir, nil), skip)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "ned %s\n", ned)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile adds kind, the file's place (placeOf) and its content to h.
func hashFile(h hash.Hash, kind, place, path string) error {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(h, "%s %q missing\n", kind, place)
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("hash %s %s: %w", kind, path, err)
	}
	fmt.Fprintf(h, "%s %q %d\n", kind, place, st.Size())
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	if _, err := io.CopyBuffer(h, f, *bp); err != nil {
		return fmt.Errorf("hash %s %s: %w", kind, path, err)
	}
	return nil
}

// nedDirs resolves NED path entries: relative ones against the working
// directory, and also against each ini file's directory (where OMNeT++
// resolves an ini's ned-path) when iniFiles are given.
func nedDirs(path []string, dir string, iniFiles []string) []string {
	var out []string
	add := func(p string) {
		p = filepath.Clean(p)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range path {
		if filepath.IsAbs(p) {
			add(p)
			continue
		}
		add(inDir(dir, p))
		for _, ini := range iniFiles {
			add(filepath.Join(filepath.Dir(inDir(dir, ini)), p))
		}
	}
	return out
}

// nedDigest hashes the relative path and content of every .ned file below
// dirs (sorted), each dir named as seen from the working directory wd,
// leaving out the directories in skip.
func nedDigest(wd string, dirs []string, skip []string) (string, error) {
	h := sha256.New()
	var skipAbs []string
	for _, s := range skip {
		if a, err := filepath.Abs(s); err == nil {
			skipAbs = append(skipAbs, a)
		}
	}
	reads := fileSums{}
	for _, d := range dirs {
		var files []string
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if p == d {
					return fs.SkipDir // a NED directory that does not exist
				}
				return nil
			}
			if e.IsDir() {
				if a, err := filepath.Abs(p); err == nil && slices.Contains(skipAbs, a) {
					return fs.SkipDir
				}
				if e.Name() == ".simswarm" {
					return fs.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(e.Name(), ".ned") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("NED path %s: %w", d, err)
		}
		slices.Sort(files)
		fmt.Fprintf(h, "dir %q %d\n", fromDir(wd, d), len(files))
		for _, p := range files {
			rel, _ := filepath.Rel(d, p)
			fmt.Fprintf(h, "ned %q\n", filepath.ToSlash(rel))
			if err := hashNED(h, p, reads); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashNED adds the content of the NED file at path to h, and that of the
// files it reads itself (nedReads), which OMNeT++ resolves against the
// NED file's directory.
func hashNED(h hash.Hash, path string, reads fileSums) error {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(h, "unreadable\n")
		return nil
	}
	fmt.Fprintf(h, "content %d\n", len(data))
	h.Write(data)
	if !bytes.Contains(data, []byte("readFile")) && !bytes.Contains(data, []byte("xmldoc")) && !bytes.Contains(data, []byte("readXML")) {
		return nil
	}
	for _, m := range nedReads.FindAllSubmatch(data, -1) {
		for _, name := range stringLiterals(`"` + string(m[1]) + `"`) {
			p := name
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(path), name)
			}
			s, err := reads.sum(p)
			if err != nil {
				return err
			}
			if s != "" {
				fmt.Fprintf(h, "reads %q %s\n", name, s)
			}
		}
	}
	return nil
}

// nedReads are the calls by which a NED file names a file it reads (a
// parameter's default(xmldoc("config.xml"))): the string literal first
// argument of readFile, xmldoc and readXML.
var nedReads = regexp.MustCompile(`\b(?:readFile|xmldoc|readXML)\s*\(\s*"((?:[^"\\]|\\.)*)"`)

// splitPath splits a NED path as OMNeT++ does (opp_splitpath: on ';' and
// ':'), dropping empty items.
func splitPath(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ':' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// optionValues are the values of the short option c on inv's command line,
// in order (-c X and -cX alike).
func optionValues(inv oppcli.Invocation, c byte) []string {
	kept := inv.Without(func(short byte, _ string, _ bool) bool { return short != c })[1:]
	var out []string
	for i := 0; i < len(kept); i++ {
		a := kept[i]
		if a == "-"+string(c) {
			if i+1 < len(kept) {
				out = append(out, kept[i+1])
			}
			i++
			continue
		}
		out = append(out, strings.TrimPrefix(a, "-"+string(c)))
	}
	return out
}

// getenv reads name from env, or from the process's environment when env
// is nil (the program inherits it).
func getenv(env []string, name string) string {
	if env == nil {
		return os.Getenv(name)
	}
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val // the last one wins, as in exec
		}
	}
	return v
}

// programFile is the program of inv: a name without a slash as found on
// PATH (where exec finds it), else as given, relative to the working
// directory.
func programFile(inv oppcli.Invocation) string {
	prog := inv.Args[0]
	if !strings.ContainsRune(prog, '/') {
		if p, err := exec.LookPath(prog); err == nil {
			return p
		}
	}
	return prog
}

// libraryFiles are where opp_run looks for the library of -l lib:
// lib/x as lib/libx.so, and x.so.
func libraryFiles(lib string) []string {
	return []string{filepath.Join(filepath.Dir(lib), "lib"+filepath.Base(lib)+".so"), lib + ".so"}
}

// placeOf names a file that the command line names as p, relative to the
// working directory dir, the same however dir and p are spelled (-C model,
// -C /abs/model, from inside it; lib/model or /abs/model/lib/model): its
// path from dir, cleaned ("lib/libmodel.so", "../inet/src/libINET.so"). A
// path that cannot be made absolute stays as it is.
func placeOf(dir, p string) string { return fromDir(dir, inDir(dir, p)) }

// fromDir is path (absolute, or relative to the current directory) as seen
// from dir: placeOf for a path already resolved against dir.
func fromDir(dir, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return abs
	}
	if rel, err := filepath.Rel(absDir, abs); err == nil {
		return rel
	}
	return abs
}

// programPlace is placeOf for the program, written as a command names a
// program in its directory ("./aloha"): what the identities of runs
// started as `./aloha` from the model's directory always held.
func programPlace(dir, p string) string {
	place := placeOf(dir, p)
	if filepath.IsAbs(place) || place == ".." || strings.HasPrefix(place, "../") {
		return place
	}
	return "./" + place
}

// stableArgv is the program's command line with the program and each -l
// library named by their place (programPlace, placeOf), so that a run's
// identity does not depend on how the working directory, the program or a
// library was spelled; a program without a slash is looked up on PATH and
// stays a name.
func stableArgv(args []string, dir string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		switch {
		case i == 0 && strings.ContainsRune(a, '/'):
			out[i] = programPlace(dir, a)
		case i > 0 && args[i-1] == "-l":
			out[i] = placeOf(dir, a)
		case i > 0 && strings.HasPrefix(a, "-l") && len(a) > 2:
			out[i] = "-l" + placeOf(dir, a[2:])
		}
	}
	return out
}

func inDir(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" || dir == "." {
		return p
	}
	return filepath.Join(dir, p)
}
