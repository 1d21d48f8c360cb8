package api

import (
	"errors"
	"slices"
	"testing"
)

func TestSelectRefusesRunsTheProgramDoesNotList(t *testing.T) {
	fifty := make([]int, 50)
	for i := range fifty {
		fifty[i] = i
	}
	for _, tc := range []struct {
		filter string
		listed []int
		want   []int
		err    string
	}{
		{"0..3,7", fifty, []int{0, 1, 2, 3, 7}, ""},
		{"49", fifty, []int{49}, ""},
		{"0..99", fifty, nil, "runs 50..99 do not exist: config C has 50 runs (0..49)"},
		{"3,50", fifty, nil, "run 50 does not exist: config C has 50 runs (0..49)"},
		{"48..52,60,70..71", fifty, nil, "runs 50..52,60,70..71 do not exist: config C has 50 runs (0..49)"},
		{"0..5", []int{1, 3}, nil, "runs 0,2,4..5 do not exist: config C has 2 runs"},
		{"0", nil, nil, "run 0 does not exist: config C has 0 runs"},
	} {
		f, err := ParseRunFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Select("C", tc.listed)
		var nse *NoSuchRunsError
		switch {
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("%q: %v, %v; want %v", tc.filter, got, err, tc.want)
		case tc.err != "" && (err == nil || err.Error() != tc.err || !errors.As(err, &nse) || got != nil):
			t.Errorf("%q: %v, %v; want the error %q", tc.filter, got, err, tc.err)
		}
	}
}
