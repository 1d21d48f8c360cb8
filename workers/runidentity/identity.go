package runidentity

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"regexp"
	"slices"
	"strconv"

	"github.com/simswarm/simswarm/workers/oppcli"
)

// Version names the identity's encoding; it is hashed first, so a change
// of what is hashed (a new version) never matches an identity of the old.
const Version = "simswarm-run-identity/2"

// Inputs is what every run of one listing shares.
type Inputs struct {
	// ArtifactKey is the build artifact's key: a digest of its content
	// (program, libraries, NED and data files).
	ArtifactKey string
	// Argv is the program's command line as the user gave it (the
	// program and its options, e.g. ["opp_run", "-l", "lib/model"]);
	// New normalizes it with NormalizeArgv.
	Argv []string
	// WorkingDir is the directory the runs start in, relative to the
	// artifact's root ("" and "." are the root).
	WorkingDir string
	// Config is the config name (-c); "" is General.
	Config string
}

// Identifier computes the identities of the runs of one listing.
type Identifier struct {
	prefix [sha256.Size]byte
	// byNumber and seeded are what the shared entries of WithBase say:
	// one refers to ${runnumber}, one sets seed-set.
	byNumber, seeded bool
}

// New is the Identifier of the runs listed for in.
func New(in Inputs) *Identifier {
	h := sha256.New()
	field(h, Version)
	field(h, in.ArtifactKey)
	argv := NormalizeArgv(in.Argv)
	field(h, strconv.Itoa(len(argv)))
	for _, a := range argv {
		field(h, a)
	}
	wd := in.WorkingDir
	if wd == "" {
		wd = "."
	}
	field(h, wd)
	cfg := in.Config
	if cfg == "" {
		cfg = "General"
	}
	field(h, cfg)
	id := &Identifier{}
	h.Sum(id.prefix[:0])
	return id
}

// excluded are the entries that do not determine a run's result: repeat
// only says how many repetitions there are, and a run's own repetition is
// among its iteration variables.
var excluded = map[string]bool{"repeat": true}

// runNumberRef is a reference to the run number that the program left
// unsubstituted.
var runNumberRef = regexp.MustCompile(`\$\{\s*runnumber\s*\}`)

// Of is the identity of run r, a 64-digit hex SHA-256.
func (id *Identifier) Of(r Run) string {
	h := sha256.New()
	h.Write(id.prefix[:])
	field(h, r.Vars)
	byNumber, seeded := id.byNumber, id.seeded
	for _, e := range r.Entries {
		if excluded[e.Key] {
			continue
		}
		field(h, e.Key)
		field(h, e.Value)
		byNumber = byNumber || runNumberRef.MatchString(e.Value) || runNumberRef.MatchString(e.Key)
		seeded = seeded || e.Key == "seed-set"
	}
	// seed-set defaults to ${runnumber} (OMNeT++'s envirbase.cc), and the
	// program lists only the entries an ini sets: without one, the run's
	// random numbers come from its number.
	if byNumber || !seeded {
		field(h, "runnumber")
		field(h, strconv.Itoa(r.Number))
	}
	if r.Files != "" {
		// After every other field, so that a run naming no file keeps
		// the identity it had before files were hashed.
		field(h, "files")
		field(h, r.Files)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// field writes s length-prefixed, so that no two sequences of fields
// share an encoding.
func field(h hash.Hash, s string) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
	h.Write([]byte(s))
}

// NormalizeArgv is argv without what does not decide a run's result, or is
// hashed in another form: the run selection (-r), a query (-q), the ini
// files (-f, positional and after "--": the resolved entries hold what
// they say), the config (-c: Inputs.Config) and what simswarm and
// opp_runall add for their own output (-s, -u, --cmdenv-redirect-output).
// Everything else stays, in order: libraries (-l), NED paths (-n),
// --result-dir (it names the files a run writes) and any --option=value.
// An argv opp_run would refuse (an option without its value) is kept as
// it is.
func NormalizeArgv(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	inv, err := oppcli.ParseInvocation(argv)
	if err != nil {
		return slices.Clone(argv)
	}
	return inv.Without(func(short byte, long string, ini bool) bool {
		switch {
		case ini:
			return true
		case short != 0:
			return short == 'r' || short == 'q' || short == 'f' || short == 'c' || short == 's' || short == 'u'
		default:
			return long == "cmdenv-redirect-output"
		}
	})
}

// WithBase is id with the entries every run of the listing shares hashed
// in once, so that Of then takes a run as `-q rundetails` lists it (its
// iteration variables and only the entries that hold them): OMNeT++ 6.1
// answers `-q runconfig` for all runs in time quadratic in their number
// (minutes for 10,000 runs, hours for 100,000), `-q rundetails` for all
// runs and `-q runconfig` for one run in a fraction of a second.
//
// base is one run's whole configuration (BaseArgv), details any run's
// listing by DetailsArgv: the keys of its entries are those whose values
// vary from run to run, the same in every run of a config. base's entries
// are hashed in order, a varying one by its key alone, so that its place
// among the others (an earlier entry wins) is part of the identity and
// its value comes from each run's details.
func (id *Identifier) WithBase(base, details Run) *Identifier {
	varies := varyingKeys(details)
	h := sha256.New()
	h.Write(id.prefix[:])
	field(h, "base")
	out := &Identifier{}
	for _, e := range base.Entries {
		if excluded[e.Key] {
			continue
		}
		out.seeded = out.seeded || e.Key == "seed-set"
		if varies[e.Key] {
			field(h, "varies")
			field(h, e.Key)
			continue
		}
		field(h, "is")
		field(h, e.Key)
		field(h, e.Value)
		out.byNumber = out.byNumber || runNumberRef.MatchString(e.Value) || runNumberRef.MatchString(e.Key)
	}
	h.Sum(out.prefix[:0])
	return out
}

// Shared are base's entries that every run of the listing shares, in
// order: all but those whose keys details (any run's listing by
// DetailsArgv) lists, as WithBase hashes them.
func Shared(base, details Run) []Entry {
	varies := varyingKeys(details)
	out := make([]Entry, 0, len(base.Entries))
	for _, e := range base.Entries {
		if !varies[e.Key] {
			out = append(out, e)
		}
	}
	return out
}

// varyingKeys are the keys of the entries that details lists: those whose
// values vary from run to run.
func varyingKeys(details Run) map[string]bool {
	varies := make(map[string]bool, len(details.Entries))
	for _, e := range details.Entries {
		varies[e.Key] = true
	}
	return varies
}

// DetailsArgv is the command that lists the runs of config in ini with
// their iteration variables and the entries that hold them: program -u
// Cmdenv -f ini -c config [-r filter] -q rundetails (without -s, the
// program says how many runs it lists, and the Scanner checks it).
func DetailsArgv(program []string, ini, config, filter string) []string {
	return append(queryArgv(program, ini, config, filter), "-q", "rundetails")
}

// BaseArgv is the command that prints run 0's whole configuration, the
// base of WithBase: every run of a config has the same entries (their
// values differ only where details lists them), and run 0 exists in
// every config that has a run.
func BaseArgv(program []string, ini, config string) []string {
	return append(queryArgv(program, ini, config, "0"), "-q", "runconfig")
}

func queryArgv(program []string, ini, config, filter string) []string {
	argv := append(slices.Clone(program), "-u", "Cmdenv", "-f", ini, "-c", config)
	if filter != "" {
		argv = append(argv, "-r", filter)
	}
	return argv
}
