package textutil

import (
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc..."},
		{"héllo", 2, "h..."}, // é is two bytes: the half is dropped
		{"abc", 0, "..."},
		{"abc", -1, "..."},
	} {
		got := Truncate(c.s, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestPrefix(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"0123456789abcdef", 8, "01234567"},
		{"0123", 8, "0123"},
		{"", 8, ""},
		{"abc", -1, ""},
	} {
		if got := Prefix(c.s, c.n); got != c.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"one", 3, "one"},
		{"a\nb\nc\n", 1, "c"},
		{"a\nb\nc\n\n", 2, "b\nc"},
		{"a\r\nb\r\n", 1, "b"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"a\nb\nc", 3, "a\nb\nc"},
		{"\nb", 1, "b"},
		{"\nb", 2, "\nb"},
		{"a\nb", 0, ""},
		{"\n\n", 1, ""},
	} {
		if got := LastLines(c.s, c.n); got != c.want {
			t.Errorf("LastLines(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int64]string{0: "0 runs", 1: "1 run", 2: "2 runs", -1: "-1 runs", 100000: "100000 runs"} {
		if got := Plural(n, "run"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}
