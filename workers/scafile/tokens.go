package scafile

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

var errUnmatchedQuote = errors.New("unmatched quote")

// Tokenize splits one line of an OMNeT++ text result file (.sca, .vec,
// .vci) into its tokens as OMNeT++'s LineTokenizer does, unquoting and
// unescaping them, keeping at most max and reusing dst: the one reader of
// that syntax for every package that reads such files (a result file's
// header too, see oppcli.ReadHeader). It fails on an unmatched quote and
// on more than max tokens.
func Tokenize(line string, dst []string, max int) ([]string, error) {
	return tokenize(line, dst, max)
}

// tokenize splits a line as OMNeT++'s LineTokenizer does: tokens separated
// by spaces or tabs; a token starting with a double quote runs to the next
// unescaped double quote and has its escapes interpreted. At most max
// tokens are kept: a record has few, and a hostile line of a million
// one-byte tokens should cost no more than the line.
func tokenize(line string, dst []string, max int) ([]string, error) {
	dst = dst[:0]
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			return dst, nil
		}
		var tok string
		if line[i] == '"' {
			i++
			start, escaped := i, false
			for i < len(line) && line[i] != '"' {
				if line[i] == '\\' {
					i++
					escaped = true
				}
				i++
			}
			if i >= len(line) {
				return dst, errUnmatchedQuote
			}
			tok = line[start:i]
			if escaped {
				tok = unescape(tok)
			}
			i++ // the closing quote
		} else {
			start := i
			for i < len(line) && line[i] != ' ' && line[i] != '\t' {
				i++
			}
			tok = line[start:i]
		}
		if len(dst) == max {
			return dst, errTooManyTokens
		}
		dst = append(dst, tok)
	}
}

var errTooManyTokens = errors.New("too many tokens")

// unescape interprets backslashes as OMNeT++'s interpretBackslashes does,
// including its tolerance of unknown sequences (the character itself) and
// of \x without hex digits (a NUL byte).
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break // a stray backslash at the end
		}
		switch s[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x':
			v := 0
			for k := 0; k < 2 && i+1 < len(s) && hexDigit(s[i+1]) >= 0; k++ {
				i++
				v = v*16 + hexDigit(s[i])
			}
			b.WriteByte(byte(v))
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseNumber reads a C double as OMNeT++'s parseDouble does: what strtod
// takes, else anything naming infinity (inf, -inf, MSVC's 1.#INF) or
// not-a-number (nan, -nan, MSVC's 1.#IND).
func parseNumber(s string) (float64, bool) {
	if len(s) == 0 || len(s) > 64 {
		return 0, false
	}
	// strconv takes Go's extras (underscores, "Infinity") too; the file
	// never has them, and accepting them does no harm.
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, true
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return v, true // strtod's overflow to ±inf and underflow to 0
	}
	if strings.Contains(s, "inf") || strings.Contains(s, "Inf") || strings.Contains(s, "INF") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	if strings.Contains(s, "nan") || strings.Contains(s, "NaN") || strings.Contains(s, "NAN") || strings.Contains(s, "IND") {
		return math.NaN(), true
	}
	return 0, false
}
