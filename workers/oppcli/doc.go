// Package oppcli speaks OMNeT++'s command-line contract: it reads an
// opp_run command line as OMNeT++ does (Invocation: config, run filter, ini
// files, --result-dir), asks a simulation program which runs it selects
// (`-q runnumbers`) and where its results go (`-e result-dir`), builds the
// command of a batch as opp_runall does (BatchArgs) and that of one
// cluster run (RunArgv), reads what a batch prints (BatchLog: which runs
// started, finished, and their "<!> Error" lines) and what a result file
// says about the run that wrote it (ReadHeader, which reads the header's
// lines with scafile.Tokenize, OMNeT++'s own quoting and escapes). QueryRuns asks `-q runs`
// for the runs with their iteration variables. ParseClusterInvocation splits
// a command line for a campaign on the cluster: the program with the options
// passed through, and the ini file, config and run filter that become the
// campaign's simulation spec (RunArgv puts them back per run). There is one
// reading of a command line, ParseInvocation's (OMNeT++ 6.1's: -cX as -c X,
// ini files positional too but read after every -f file, the last -c and
// -r count); the cluster split is
// derived from it and refuses what a campaign cannot honour (more than one
// ini file, -u other than Cmdenv), naming it, instead of dropping it.
//
// Guarantees: ParseRuns accepts both forms of `-q runs` (with the banner,
// whose run count it checks against the lines, and -s) and rejects output
// that lists no runs without saying there are none. ParseRunNumbers
// accepts both the silent form (`-s`: numbers on one line) and the banner
// form (copyright, version, "Config: X", then "Run numbers: 0 1 2"),
// ignoring anything else the program prints;
// NoSuchRuns names every number of a -r beyond the config, as the cluster
// does (api.RunFilter.Select), where OMNeT++'s refusal names the first;
// ResultRoot reads result-dir as the program does (the ini files in its
// order, the first value of a section wins);
// BatchArgs passes the user's arguments through untouched (ini files,
// options) except the run filter; Invocation.Key changes whenever the
// arguments, the program file or the content of an ini file the program
// reads (includes too) does.
package oppcli
