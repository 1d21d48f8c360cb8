package local

import (
	"strings"
	"testing"
)

// TestInitOptionsNameTheBadAddressPool: a bad pool or mask length is
// refused before the engine is asked, with the value at fault named.
func TestInitOptionsNameTheBadAddressPool(t *testing.T) {
	for _, tc := range []struct {
		o    InitOptions
		want string // "" = valid
	}{
		{InitOptions{DefaultAddrPool: []string{"10.20.0.0/16"}, SubnetSize: 24}, ""},
		{InitOptions{DefaultAddrPool: []string{"10.20.0.0/16", "10.30.0.0/16"}}, ""},
		{InitOptions{DefaultAddrPool: []string{"10.20.0.0"}}, `default address pool "10.20.0.0"`},
		{InitOptions{DefaultAddrPool: []string{"10.20.0.0/24"}, SubnetSize: 16}, "shorter than the pool's /24"},
		{InitOptions{SubnetSize: 31}, "mask length 31"},
	} {
		err := tc.o.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}
