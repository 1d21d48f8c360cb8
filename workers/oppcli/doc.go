// Package oppcli speaks OMNeT++'s command-line contract: it asks a
// simulation program which runs a config has (`-q runnumbers`) and builds
// the argv of a batch run (`-u Cmdenv -f INI -c CONFIG -r RUNS
// --result-dir=DIR`).
//
// Guarantees: ParseRunNumbers accepts both the silent form (`-s`: numbers on
// one line) and the banner form (copyright, version, "Config: X", then
// "Run numbers: 0 1 2"), ignoring anything else the program prints.
package oppcli
