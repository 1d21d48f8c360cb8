package httpquery

import (
	"net/http/httptest"
	"testing"
)

func TestIntAndBool(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?limit=20&after=-1&bad=x&purge=true&empty=&no=maybe", nil)
	for key, want := range map[string]int{"limit": 20, "after": -1, "missing": 7, "empty": 7} {
		if got, err := Int(r, key, 7); got != want || err != nil {
			t.Errorf("Int(%s) = %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := Int(r, "bad", 7); err == nil || err.Error() != `bad="x" is not an integer` {
		t.Errorf("Int(bad): %v", err)
	}
	if b, err := Bool(r, "purge"); !b || err != nil {
		t.Errorf("Bool(purge) = %v, %v", b, err)
	}
	if b, err := Bool(r, "missing"); b || err != nil {
		t.Errorf("Bool(missing) = %v, %v", b, err)
	}
	if _, err := Bool(r, "no"); err == nil || err.Error() != `no="maybe" is not true or false` {
		t.Errorf("Bool(no): %v", err)
	}
}
