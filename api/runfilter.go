package api

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// RunFilter is a set of run numbers in opp_run's -r syntax: comma-separated
// items, each a run number N or an inclusive range A..B ("0..99", "1,5,8",
// "0..9,20"). The zero RunFilter selects nothing. It is stored as sorted,
// merged intervals, so no operation expands it unless asked to (Numbers).
type RunFilter struct {
	spans []span // sorted, non-overlapping, non-adjacent
}

type span struct{ lo, hi int }

// IsRunExpression reports whether a run filter is an OMNeT++ filter
// expression ("$numHosts>10", "$x==2 and $y<5") rather than run numbers:
// only the simulation program can evaluate one (opp_run -r), so simswarm
// passes it on and lets the program list the runs it selects.
func IsRunExpression(s string) bool { return strings.Contains(s, "$") }

// ParseRunFilter parses a run filter. Whitespace around items and around
// ".." is ignored; overlapping items are merged. Empty items, negative or
// non-numeric numbers, numbers above MaxRunNumber and reversed ranges
// ("5..2") are errors whose text reads after the field's path, e.g.
// `"5..2" is not a valid range: 5 is greater than 2`.
func ParseRunFilter(s string) (RunFilter, error) {
	if strings.TrimSpace(s) == "" {
		return RunFilter{}, fmt.Errorf("run filter is empty")
	}
	var spans []span
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return RunFilter{}, fmt.Errorf("%q has an empty item (item %d)", s, i+1)
		}
		if a, b, ok := strings.Cut(item, ".."); ok {
			lo, err := parseRunNumber(a)
			if err != nil {
				return RunFilter{}, fmt.Errorf("%q is not a valid range: %v", item, err)
			}
			hi, err := parseRunNumber(b)
			if err != nil {
				return RunFilter{}, fmt.Errorf("%q is not a valid range: %v", item, err)
			}
			if lo > hi {
				return RunFilter{}, fmt.Errorf("%q is not a valid range: %d is greater than %d", item, lo, hi)
			}
			spans = append(spans, span{lo, hi})
			continue
		}
		n, err := parseRunNumber(item)
		if err != nil {
			return RunFilter{}, fmt.Errorf("%q is not a valid run number: %v", item, err)
		}
		spans = append(spans, span{n, n})
	}
	return RunFilter{spans: mergeSpans(spans)}, nil
}

func parseRunNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("missing number")
	}
	for _, r := range s {
		if r == '-' {
			return 0, fmt.Errorf("%s: run numbers are not negative", s)
		}
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxRunNumber {
		return 0, fmt.Errorf("%s is larger than the largest run number %d", s, MaxRunNumber)
	}
	return int(n), nil
}

func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && s.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, s.hi)
			continue
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// Contains reports whether run number n is selected.
func (f RunFilter) Contains(n int) bool {
	i, _ := slices.BinarySearchFunc(f.spans, n, func(s span, n int) int {
		switch {
		case s.hi < n:
			return -1
		case s.lo > n:
			return 1
		}
		return 0
	})
	return i < len(f.spans) && f.spans[i].lo <= n && n <= f.spans[i].hi
}

// Count is the number of runs selected, computed without expanding.
func (f RunFilter) Count() int64 {
	var n int64
	for _, s := range f.spans {
		n += int64(s.hi-s.lo) + 1
	}
	return n
}

// Max is the largest selected run number, or -1 for an empty filter.
func (f RunFilter) Max() int {
	if len(f.spans) == 0 {
		return -1
	}
	return f.spans[len(f.spans)-1].hi
}

// IsEmpty reports whether the filter selects nothing (the zero RunFilter).
func (f RunFilter) IsEmpty() bool { return len(f.spans) == 0 }

// String gives the canonical form: merged items, ascending ("0..9,20").
// ParseRunFilter(f.String()) selects the same runs.
func (f RunFilter) String() string {
	parts := make([]string, len(f.spans))
	for i, s := range f.spans {
		if s.lo == s.hi {
			parts[i] = strconv.Itoa(s.lo)
		} else {
			parts[i] = strconv.Itoa(s.lo) + ".." + strconv.Itoa(s.hi)
		}
	}
	return strings.Join(parts, ",")
}

// Numbers lists the selected run numbers, ascending and without
// duplicates, at most limit of them (limit <= 0 means MaxRuns, so a huge
// filter never allocates without bound).
func (f RunFilter) Numbers(limit int) []int {
	n := f.Count()
	if limit <= 0 {
		limit = MaxRuns
	}
	if int64(limit) < n {
		n = int64(limit)
	}
	out := make([]int, 0, n)
	for _, s := range f.spans {
		for r := s.lo; r <= s.hi; r++ {
			if int64(len(out)) == n {
				return out
			}
			out = append(out, r)
		}
	}
	return out
}
