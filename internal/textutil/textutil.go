package textutil

import (
	"strconv"
	"strings"
)

// Truncate returns s if it has at most n bytes, else its first n bytes
// followed by "..." (a rune the cut splits is left out).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:max(n, 0)], "") + "..."
}

// Prefix returns the first n bytes of s, or s if it is shorter: the short
// form of a hex id or key.
func Prefix(s string, n int) string {
	if len(s) > n {
		return s[:max(n, 0)]
	}
	return s
}

// LastLines returns the last n lines of s, joined by "\n", without the
// line breaks (and carriage returns) that end s.
func LastLines(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = strings.TrimRight(s, "\r\n")
	i := len(s)
	for ; n > 0; n-- {
		j := strings.LastIndexByte(s[:i], '\n')
		if j < 0 {
			return s
		}
		i = j
	}
	return s[i+1:]
}

// Plural writes a count with its noun: "1 run", "0 runs", "3 runs".
func Plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
