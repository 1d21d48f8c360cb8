// Package oppcli speaks OMNeT++'s command-line contract: it asks a
// simulation program which runs a config has (`-q runnumbers`) and builds
// the argv of a batch run (`-u Cmdenv -f INI -c CONFIG -r RUNS
// --result-dir=DIR`).
//
// QueryRuns asks `-q runs` for the runs with their iteration variables.
//
// Guarantees: ParseRuns accepts both forms of `-q runs` (with the banner,
// whose run count it checks against the lines, and -s) and rejects output
// that lists no runs without saying there are none. ParseRunNumbers accepts both the silent form (`-s`: numbers on
// one line) and the banner form (copyright, version, "Config: X", then
// "Run numbers: 0 1 2"), ignoring anything else the program prints.
package oppcli
