package oppcli

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/simswarm/simswarm/workers/scafile"
)

// maxHeader bounds how much of a result file ReadHeader reads: the run's
// attributes and configuration come first and are rarely longer than a few
// kilobytes.
const maxHeader = 1 << 20

// Header is what an OMNeT++ result file (.sca, .vec, .vci in the text
// format) says about the run that wrote it: the run line, the run
// attributes (configname, runnumber, resultdir, ...) and the configuration
// entries, as written before the first result.
type Header struct {
	RunID  string
	Attrs  map[string]string
	Config map[string]string // the first (most specific) value of each key
}

// Run is the run number and config the file belongs to; ok is false when
// the header does not say.
func (h Header) Run() (config string, run int, ok bool) {
	config, okc := h.Attrs["configname"]
	n, err := strconv.Atoi(h.Attrs["runnumber"])
	return config, n, okc && err == nil && n >= 0
}

// OutFile is the file Cmdenv redirected this run's output to under
// --cmdenv-redirect-output, relative to the program's working directory:
// the run's cmdenv-output-file entry, else OMNeT++'s default
// ${resultdir}/${configname}-${iterationvarsf}#${repetition}.out.
func (h Header) OutFile() (string, bool) {
	if v, ok := h.Config["cmdenv-output-file"]; ok {
		return v, !strings.Contains(v, "${")
	}
	dir, ok1 := h.Attrs["resultdir"]
	config, ok2 := h.Attrs["configname"]
	vars, ok3 := h.Attrs["iterationvarsf"]
	rep, ok4 := h.Attrs["repetition"]
	if !(ok1 && ok2 && ok3 && ok4) {
		return "", false
	}
	return dir + "/" + config + "-" + vars + "#" + rep + ".out", true
}

// headerReaders keeps ReadHeader's line buffers: a runner reads the header
// of every result file of every run, mostly files far smaller than the
// buffer, and a new 16 KiB buffer each time was a quarter of what it
// allocated (and collected) per run. A cache, not state: a reader is
// reset before it is put back.
var headerReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// headerTokens bounds the tokens of a header line: "attr NAME VALUE",
// "config KEY VALUE" and "run ID" have at most three.
const headerTokens = 4

// ReadHeader parses the header of a text result file; ok is false when r
// does not start like one (another kind of file, or a SQLite result file).
// Lines are read as OMNeT++ writes them, with scafile's tokenizer (quoted
// values, escapes, spaces or tabs between tokens).
func ReadHeader(r io.Reader) (Header, bool) {
	h := Header{Attrs: map[string]string{}, Config: map[string]string{}}
	br := headerReaders.Get().(*bufio.Reader)
	br.Reset(io.LimitReader(r, maxHeader))
	defer func() {
		br.Reset(nil) // let go of r
		headerReaders.Put(br)
	}()
	first := true
	var toks []string
	for {
		line, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			break
		}
		var terr error
		toks, terr = scafile.Tokenize(strings.TrimRight(line, "\r\n"), toks, headerTokens)
		if terr != nil || len(toks) == 0 {
			return h, h.RunID != ""
		}
		switch toks[0] {
		case "file": // a .vci starts with the size and time of its .vec
			if !first {
				return h, h.RunID != ""
			}
		case "version":
		case "run":
			if h.RunID != "" {
				return h, true // the next run of a file with several
			}
			if len(toks) != 2 {
				return h, false
			}
			h.RunID = toks[1]
		case "attr", "config":
			if len(toks) != 3 {
				return h, h.RunID != ""
			}
			m := h.Attrs
			if toks[0] == "config" {
				m = h.Config
			}
			if _, dup := m[toks[1]]; !dup {
				m[toks[1]] = toks[2]
			}
		case "itervar":
		default:
			return h, h.RunID != ""
		}
		first = false
		if err != nil {
			break
		}
	}
	return h, h.RunID != ""
}

// outputOptions are the per-run options naming a file the run writes
// besides Cmdenv's output. A result file's header records them with the
// run's variables substituted, so they give the exact paths.
var outputOptions = []string{"output-scalar-file", "output-vector-file", "eventlog-file", "snapshot-file"}

// OutputFiles are the files, relative to the program's working directory,
// that the header says its run writes under names of the ini's choosing:
// the redirected output (OutFile) and every output option the
// configuration sets (a vector file's index too). Files left at OMNeT++'s
// default names share the name stem of the run's result files instead.
func (h Header) OutputFiles() []string {
	var out []string
	if f, ok := h.OutFile(); ok {
		out = append(out, f)
	}
	for _, opt := range outputOptions {
		v, ok := h.Config[opt]
		if !ok || v == "" || strings.Contains(v, "${") {
			continue
		}
		out = append(out, v)
		if opt == "output-vector-file" {
			out = append(out, strings.TrimSuffix(v, filepath.Ext(v))+".vci")
		}
	}
	return out
}

// Appends reports whether the run appended to file instead of writing a
// file of its own: output-scalar-file-append or output-vector-file-append
// is true and file is that kind of file (by its configured name, else its
// extension; a .vci goes with its .vec). Relative paths, the file's and
// the configured ones, are relative to dir, the program's working
// directory.
func (h Header) Appends(file, dir string) (option string, ok bool) {
	file = resolve(file, dir)
	ext := filepath.Ext(file)
	for _, k := range []struct{ file, opt, ext string }{
		{"output-scalar-file", "output-scalar-file-append", ".sca"},
		{"output-vector-file", "output-vector-file-append", ".vec"},
	} {
		if h.Config[k.opt] != "true" {
			continue
		}
		f, set := h.Config[k.file]
		if !set {
			if ext == k.ext || (k.ext == ".vec" && ext == ".vci") {
				return k.opt, true
			}
			continue
		}
		f = resolve(f, dir)
		if file == f || (k.ext == ".vec" && ext == ".vci" && strings.TrimSuffix(file, ext) == strings.TrimSuffix(f, filepath.Ext(f))) {
			return k.opt, true
		}
	}
	return "", false
}

func resolve(p, dir string) string {
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// RunRef names one run of a config.
type RunRef struct {
	Config string
	Run    int
}

// ReadRuns lists the runs whose results a text result file holds, in the
// order of their blocks (a file appended to holds one block per run that
// wrote to it).
func ReadRuns(r io.Reader) []RunRef {
	var out []RunRef
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var cur RunRef
	inRun := false
	var toks []string
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 4 {
			continue
		}
		switch {
		case bytes.HasPrefix(line, []byte("run ")) || bytes.HasPrefix(line, []byte("run\t")):
			cur, inRun = RunRef{Run: -1}, true
		case inRun && (bytes.HasPrefix(line, []byte("attr ")) || bytes.HasPrefix(line, []byte("attr\t"))):
			var err error
			if toks, err = scafile.Tokenize(string(line), toks, headerTokens); err != nil || len(toks) != 3 {
				continue
			}
			switch toks[1] {
			case "configname":
				cur.Config = toks[2]
			case "runnumber":
				if n, err := strconv.Atoi(toks[2]); err == nil {
					cur.Run = n
				}
			}
		case inRun && !bytes.HasPrefix(line, []byte("itervar")) && !bytes.HasPrefix(line, []byte("config")):
			if cur.Run >= 0 && !slices.Contains(out, cur) {
				out = append(out, cur)
			}
			inRun = false
		}
	}
	if inRun && cur.Run >= 0 && !slices.Contains(out, cur) {
		out = append(out, cur)
	}
	return out
}

// EventlogRunID is the run id an OMNeT++ event log names on its first line
// ("SB v 1537 rid Config-0-20240101-12:00:00-1234 ..."): the same id as
// the run line of the run's result files.
func EventlogRunID(r io.Reader) (string, bool) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096).ReadString('\n')
	if err != nil && line == "" {
		return "", false
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "SB" {
		return "", false
	}
	for i := 1; i+1 < len(fields); i++ {
		if fields[i] == "rid" {
			return fields[i+1], true
		}
	}
	return "", false
}

// ReadFileHeader is ReadHeader of the file at path (ok false when it
// cannot be read).
func ReadFileHeader(path string) (Header, bool) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, false
	}
	defer f.Close()
	return ReadHeader(f)
}
