package builder

import (
	"os"
	"strings"
)

// DefaultDistccMasquerade is where Debian's distcc keeps its masquerade
// links (update-distcc-symlinks): gcc, g++, cc, c++ and the versioned
// names, each a link to distcc.
const DefaultDistccMasquerade = "/usr/lib/distcc"

// distccEnv is env (the build's environment) made to compile through
// distcc on hosts: CC and CXX are the build's own compilers (gcc and g++
// by default) run by distcc, for makefiles that take them from the
// environment; and the masquerade directory, when it exists, goes first on
// PATH, for makefiles that set CC and CXX themselves (OMNeT++'s
// Makefile.inc has CXX = g++, which overrides the environment): their
// "g++" is then distcc's link, which finds the real g++ further on PATH.
func distccEnv(env []string, buildEnv map[string]string, hosts, distccDir, masquerade string) []string {
	compiler := func(name, def string) string {
		if v := buildEnv[name]; v != "" {
			return v
		}
		return def
	}
	env = append(env, "CC=distcc "+compiler("CC", "gcc"), "CXX=distcc "+compiler("CXX", "g++"),
		"DISTCC_HOSTS="+hosts, "DISTCC_DIR="+distccDir)
	if st, err := os.Stat(masquerade); err != nil || !st.IsDir() {
		return env
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v // the last one is the one a program gets
		}
	}
	if path == "" {
		return append(env, "PATH="+masquerade)
	}
	return append(env, "PATH="+masquerade+":"+path)
}
