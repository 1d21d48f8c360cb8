package scafile

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Write writes f in OMNeT++'s text format (version 3 unless f.Version
// says otherwise), quoting as OMNeT++'s writer does. Numbers are written
// with full precision, so Parse reads back the same values.
func Write(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	v := f.Version
	if v == 0 {
		v = 3
	}
	fmt.Fprintf(bw, "version %d\n", v)
	attrs := func(kvs []KV) {
		for _, kv := range kvs {
			fmt.Fprintf(bw, "attr %s %s\n", quote(kv.Name), quote(kv.Value))
		}
	}
	for _, r := range f.Runs {
		fmt.Fprintf(bw, "run %s\n", quote(r.ID))
		attrs(r.Attrs)
		for _, kv := range r.Itervars {
			fmt.Fprintf(bw, "itervar %s %s\n", quote(kv.Name), quote(kv.Value))
		}
		for _, kv := range r.Config {
			fmt.Fprintf(bw, "config %s %s\n", quote(kv.Name), quote(kv.Value))
		}
		bw.WriteString("\n")
		for _, p := range r.Params {
			fmt.Fprintf(bw, "par %s %s %s\n", quote(p.Module), quote(p.Name), quote(p.Value))
			attrs(p.Attrs)
		}
		for _, s := range r.Scalars {
			fmt.Fprintf(bw, "scalar %s %s %s\n", quote(s.Module), quote(s.Name), number(s.Value))
			attrs(s.Attrs)
		}
		for _, s := range r.Statistics {
			fmt.Fprintf(bw, "statistic %s %s\n", quote(s.Module), quote(s.Name))
			for _, fl := range s.Fields {
				fmt.Fprintf(bw, "field %s %s\n", quote(fl.Name), number(fl.Value))
			}
			attrs(s.Attrs)
			for _, b := range s.Bins {
				fmt.Fprintf(bw, "bin\t%s\t%s\n", number(b.Lower), number(b.Value))
			}
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// number writes v as C's printf does for inf and nan, otherwise in the
// shortest form that reads back exactly.
func number(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case math.IsNaN(v):
		return "nan"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// quote is OMNeT++'s QUOTE: the text as it is unless it is empty or holds
// a space, a backslash, a double quote or a control character; then
// opp_quotestr's double-quoted form.
func quote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == '\\' || r == '"' || r < 0x20 || r == 0x7f
	}) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\x%02X`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
