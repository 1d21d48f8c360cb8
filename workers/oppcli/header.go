package oppcli

import (
	"bufio"
	"io"
	"strconv"
	"strings"
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

// ReadHeader parses the header of a text result file; ok is false when r
// does not start like one (another kind of file, or a SQLite result file).
func ReadHeader(r io.Reader) (Header, bool) {
	h := Header{Attrs: map[string]string{}, Config: map[string]string{}}
	br := bufio.NewReaderSize(io.LimitReader(r, maxHeader), 16<<10)
	first := true
	for {
		line, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			break
		}
		line = strings.TrimRight(line, "\r\n")
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "file": // a .vci starts with the size and time of its .vec
			if !first {
				return h, h.RunID != ""
			}
		case "version":
		case "run":
			if h.RunID != "" {
				return h, true // the next run of a file with several
			}
			h.RunID = rest
		case "attr", "config":
			name, value, _ := strings.Cut(rest, " ")
			m := h.Attrs
			if kind == "config" {
				m = h.Config
			}
			if _, dup := m[name]; !dup {
				m[name] = unquote(value)
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

// unquote undoes OMNeT++'s quoting of values with spaces or quotes.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
