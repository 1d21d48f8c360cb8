package sweep

import (
	"reflect"
	"strings"
	"testing"
)

func TestEntriesInLookupOrder(t *testing.T) {
	ini, err := Parse(strings.NewReader("[General]\nnetwork = Net\nrepeat = 2\n[Config Base]\n**.n = ${n=1,2}\n[Config Child]\nextends = Base\n**.n = 3\n"), "t.ini")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ini.Entries("Child")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"extends", "Base"}, {"**.n", "3"}, {"**.n", "${n=1,2}"}, {"network", "Net"}, {"repeat", "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Entries(Child) = %v, want %v", got, want)
	}
	if _, err := ini.Entries("Nope"); err == nil {
		t.Fatal("Entries of a config that does not exist: no error")
	}
}
