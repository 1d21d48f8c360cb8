package api

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRunFilter(t *testing.T) {
	tests := []struct {
		in      string
		str     string
		count   int64
		numbers []int
	}{
		{"7", "7", 1, []int{7}},
		{"0..9", "0..9", 10, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"1,5,8", "1,5,8", 3, []int{1, 5, 8}},
		{"0..9,20", "0..9,20", 11, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20}},
		{" 3 .. 5 ,\t8 ", "3..5,8", 4, []int{3, 4, 5, 8}},
		{"5,1,3", "1,3,5", 3, []int{1, 3, 5}},
		{"0..5,3..8,8", "0..8", 9, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"1,2,3", "1..3", 3, []int{1, 2, 3}},
		{"4,4,4", "4", 1, []int{4}},
		{"2..2", "2", 1, []int{2}},
		{"10..12,0", "0,10..12", 4, []int{0, 10, 11, 12}},
	}
	for _, tt := range tests {
		f, err := ParseRunFilter(tt.in)
		if err != nil {
			t.Errorf("ParseRunFilter(%q): %v", tt.in, err)
			continue
		}
		if got := f.String(); got != tt.str {
			t.Errorf("ParseRunFilter(%q).String() = %q, want %q", tt.in, got, tt.str)
		}
		if got := f.Count(); got != tt.count {
			t.Errorf("ParseRunFilter(%q).Count() = %d, want %d", tt.in, got, tt.count)
		}
		if got := f.Numbers(0); !reflect.DeepEqual(got, tt.numbers) {
			t.Errorf("ParseRunFilter(%q).Numbers(0) = %v, want %v", tt.in, got, tt.numbers)
		}
		// Contains agrees with Numbers on and around every selected number.
		for n := -1; n <= 25; n++ {
			want := false
			for _, x := range tt.numbers {
				want = want || x == n
			}
			if got := f.Contains(n); got != want {
				t.Errorf("ParseRunFilter(%q).Contains(%d) = %v, want %v", tt.in, n, got, want)
			}
		}
		// The canonical form parses back to the same set.
		again, err := ParseRunFilter(f.String())
		if err != nil || !reflect.DeepEqual(again, f) {
			t.Errorf("ParseRunFilter(%q) does not round-trip through %q: %v", tt.in, f.String(), err)
		}
	}
}

func TestParseRunFilterErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "run filter is empty"},
		{"   ", "run filter is empty"},
		{"5..2", `"5..2" is not a valid range: 5 is greater than 2`},
		{"a..b", `"a..b" is not a valid range: "a" is not a number`},
		{"-1", `"-1" is not a valid run number: -1: run numbers are not negative`},
		{"1,,2", `"1,,2" has an empty item (item 2)`},
		{"1,", `"1," has an empty item (item 2)`},
		{"..5", `"..5" is not a valid range: missing number`},
		{"3..", `"3.." is not a valid range: missing number`},
		{"1.5", `"1.5" is not a valid run number: "1.5" is not a number`},
		{"0..999999999999", `"0..999999999999" is not a valid range: 999999999999 is larger than the largest run number 2147483647`},
		{"99999999999999999999999", "is larger than the largest run number"},
		{"0x10", `"0x10" is not a number`},
		{"+3", `"+3" is not a number`},
	}
	for _, tt := range tests {
		_, err := ParseRunFilter(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRunFilter(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestRunFilterHugeIsNotExpanded(t *testing.T) {
	f, err := ParseRunFilter("0..2147483647")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Count(); got != 1<<31 {
		t.Errorf("Count = %d, want %d", got, int64(1)<<31)
	}
	if !f.Contains(2147483647) || f.Contains(-1) {
		t.Error("Contains wrong at the ends of a huge range")
	}
	if got := f.Numbers(3); !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("Numbers(3) = %v", got)
	}
	if got := len(f.Numbers(0)); got != MaxRuns {
		t.Errorf("Numbers(0) of a huge filter returned %d numbers, want the MaxRuns cap %d", got, MaxRuns)
	}
	if f.Max() != 2147483647 {
		t.Errorf("Max = %d", f.Max())
	}
}

func TestRunFilterZeroValue(t *testing.T) {
	var f RunFilter
	if !f.IsEmpty() || f.Count() != 0 || f.Contains(0) || f.String() != "" || len(f.Numbers(0)) != 0 || f.Max() != -1 {
		t.Errorf("zero RunFilter is not empty: %+v", f)
	}
}
