package oppcli

import (
	"fmt"
	"os"
	"strings"
)

// ClusterInvocation is an opp_run-style command line split for a campaign
// on the cluster: the program (with the options passed through) and the
// options simswarm sets itself per run there (RunArgv puts them back).
type ClusterInvocation struct {
	Program             []string
	Ini, Config, Filter string
	// ResultDir is the --result-dir the command line asked for, if any.
	ResultDir string
}

// ParseClusterInvocation takes -f/-c/-r (and drops -u, -q, -s,
// --result-dir, which a cluster run sets itself) out of an opp_run command
// line; -f defaults to omnetpp.ini and -c to General. A program named by a
// path must exist.
func ParseClusterInvocation(args []string) (ClusterInvocation, error) {
	inv := ClusterInvocation{Program: []string{args[0]}, Ini: "omnetpp.ini", Config: "General"}
	if strings.ContainsRune(args[0], '/') {
		if _, err := os.Stat(args[0]); err != nil {
			return inv, fmt.Errorf("program %s: %w", args[0], err)
		}
	}
	value := func(i int, flag string) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("%s needs a value", flag)
		}
		return args[i+1], nil
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		var err error
		switch {
		case a == "-f":
			inv.Ini, err = value(i, a)
			i++
		case a == "-c":
			inv.Config, err = value(i, a)
			i++
		case a == "-r":
			inv.Filter, err = value(i, a)
			i++
		case a == "-u", a == "-q":
			_, err = value(i, a)
			i++
		case strings.HasPrefix(a, "--result-dir="):
			inv.ResultDir = strings.TrimPrefix(a, "--result-dir=")
		case a == "--result-dir":
			inv.ResultDir, err = value(i, a)
			i++
		case a == "-s":
		default:
			inv.Program = append(inv.Program, a)
		}
		if err != nil {
			return inv, err
		}
	}
	return inv, nil
}
