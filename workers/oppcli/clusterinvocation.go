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

// ParseClusterInvocation splits an opp_run command line as ParseInvocation
// reads it (the same config, run filter, ini file and result directory the
// program itself would use): -f and ini files, -c, -r, --result-dir and
// what a cluster run sets itself (-u Cmdenv, -q, -s) come out of the
// program's arguments, the rest passes through in order. The ini file
// defaults to omnetpp.ini and the config to General. A campaign reads one
// ini file and runs under Cmdenv: more ini files, or another -u, are
// refused with an error naming them rather than dropped. A program named
// by a path must exist.
func ParseClusterInvocation(args []string) (ClusterInvocation, error) {
	inv, err := ParseInvocation(args)
	if err != nil {
		return ClusterInvocation{}, err
	}
	ci := ClusterInvocation{Program: []string{args[0]}, Ini: "omnetpp.ini", Config: inv.Config, Filter: inv.Filter, ResultDir: inv.ResultDir}
	if strings.ContainsRune(args[0], '/') {
		if _, err := os.Stat(args[0]); err != nil {
			return ci, fmt.Errorf("program %s: %w", args[0], err)
		}
	}
	switch len(inv.IniFiles) {
	case 0:
	case 1:
		ci.Ini = inv.IniFiles[0]
	default:
		return ci, fmt.Errorf("ini files %s: a campaign on the cluster reads one ini file (include the others from it)", strings.Join(inv.IniFiles, ", "))
	}
	for _, p := range inv.parsed {
		switch {
		case p.ini, p.endOpts, p.long == "result-dir":
		case p.short == 'u':
			if p.value != "Cmdenv" {
				return ci, fmt.Errorf("-u %s: runs on the cluster run under Cmdenv", p.value)
			}
		case p.short != 0 && strings.IndexByte("fcrqs", p.short) >= 0:
		default:
			for _, i := range p.at {
				ci.Program = append(ci.Program, args[i])
			}
		}
	}
	return ci, nil
}
