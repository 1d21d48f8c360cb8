package api

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/simswarm/simswarm/internal/textutil"
)

// Select applies the filter to the runs a program lists for a config
// (ascending), as OMNeT++ applies a -r of run numbers: every number must be
// one of them. It returns the selected runs, ascending, or a *NoSuchRunsError
// naming every number the program does not list (OMNeT++ names the first:
// "Run number 50 in run list '0..99' is out of range 0..49"). It walks the
// filter's intervals, so a huge filter costs no more than the list.
func (f RunFilter) Select(config string, listed []int) ([]int, error) {
	var out []int
	var missing []span
	for _, s := range f.spans {
		i := sort.SearchInts(listed, s.lo)
		next := s.lo // the first number of s not accounted for
		for ; i < len(listed) && listed[i] <= s.hi; i++ {
			if listed[i] > next {
				missing = append(missing, span{next, listed[i] - 1})
			}
			out = append(out, listed[i])
			next = listed[i] + 1
		}
		if next <= s.hi {
			missing = append(missing, span{next, s.hi})
		}
	}
	if len(missing) > 0 {
		return nil, &NoSuchRunsError{Config: config, Missing: RunFilter{spans: missing}, Listed: listed}
	}
	return out, nil
}

// NoSuchRunsError says that a filter of run numbers names runs the program
// does not list for the config.
type NoSuchRunsError struct {
	Config  string
	Missing RunFilter
	Listed  []int
}

func (e *NoSuchRunsError) Error() string {
	what := "runs " + textutil.Truncate(e.Missing.String(), 200) + " do not exist"
	if e.Missing.Count() == 1 {
		what = "run " + e.Missing.String() + " does not exist"
	}
	has := fmt.Sprintf("config %s has %s", e.Config, textutil.Plural(int64(len(e.Listed)), "run"))
	if n := len(e.Listed); n > 0 && e.Listed[n-1]-e.Listed[0] == n-1 {
		has += " (" + strconv.Itoa(e.Listed[0]) + ".." + strconv.Itoa(e.Listed[n-1]) + ")"
	}
	return what + ": " + has
}
