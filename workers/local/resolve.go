package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/simswarm/simswarm/internal/textutil"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
	"github.com/simswarm/simswarm/workers/runidentity"
)

// Resolved is what the program says about the runs a command line selects.
type Resolved struct {
	// Runs are the run numbers, ascending.
	Runs []int
	// Identities name each run by what determines its result
	// (runidentity), by run number.
	Identities map[int]string
	// Inputs are the files every process of the sweep reads as it starts
	// (the program, its -l libraries, the ini files, as they were when
	// Resolve began, and the data files the runs name, as Resolve read
	// them): Plan.Inputs.
	Inputs *Stamps
	// ResultRoot is the directory below which the runs write their
	// result files (oppcli.ResultRootOf of run 0's result-dir entry),
	// relative to the working directory unless absolute; "results" when
	// no run is selected.
	ResultRoot string
}

// Resolve asks the program (in dir, at once) which runs inv selects and
// how each is configured - ARGS -s -q rundetails for every run's
// iteration variables and the entries that hold them, ARGS -s -r 0 -q
// runconfig for the entries all runs share (OMNeT++ 6.1 answers -q
// runconfig for all runs in time quadratic in their number: hours for
// 100,000 runs) - and names each run by its identity: the program's and
// its libraries' content, the content of the NED files on its NED path,
// the command line without what only selects runs, the config, and the
// run's iteration variables and resolved configuration (runidentity). The
// files are hashed while the program answers. skip are directories the
// NED path walk leaves out (the results directory).
func Resolve(ctx context.Context, inv oppcli.Invocation, dir string, env []string, skip []string) (*Resolved, error) {
	iniFiles := oppcli.IniFiles(dir, inv.IniFiles)
	inputs := takeStamps(programFiles(inv, dir), iniFiles)
	data := newDataFiles(dir, iniFiles)
	type keyResult struct {
		key string
		err error
	}
	keyc := make(chan keyResult, 1)
	go func() {
		k, err := modelKey(inv, dir, env, skip)
		keyc <- keyResult{k, err}
	}()
	type baseResult struct {
		run runidentity.Run
		err error
	}
	basec := make(chan baseResult, 1)
	go func() {
		var out bytes.Buffer
		// OMNeT++ takes the last -r.
		argv := append(slices.Clone(inv.Args), "-s", "-r", "0", "-q", "runconfig")
		res := procexec.Run(ctx, procexec.Cmd{Argv: argv, Dir: dir, Env: env, Timeout: queryTimeout, Stdout: &out})
		if !res.Success() {
			basec <- baseResult{err: fmt.Errorf("%s -r 0 -q runconfig: %s: %s", inv.Args[0], res.Describe(), strings.TrimSpace(res.StderrTail))}
			return
		}
		run, err := runidentity.ParseBase(&out)
		if err != nil {
			err = fmt.Errorf("%s -r 0 -q runconfig: %w", inv.Args[0], err)
		}
		basec <- baseResult{run: run, err: err}
	}()
	shared := func() (string, runidentity.Run, error) {
		k, b := <-keyc, <-basec
		if k.err != nil {
			return "", runidentity.Run{}, k.err
		}
		return k.key, b.run, b.err
	}

	argv := append(slices.Clone(inv.Args), "-s", "-q", "rundetails")
	pr, pw := io.Pipe()
	type scanResult struct {
		res *Resolved
		err error
	}
	scanc := make(chan scanResult, 1)
	go func() {
		res, err := scanRunDetails(ctx, pr, inv, dir, skip, data, shared)
		// Drain what is left, so that the program never blocks on a
		// pipe nobody reads.
		_, _ = io.Copy(io.Discard, pr)
		scanc <- scanResult{res, err}
	}()
	var tail tailWriter
	res := procexec.Run(ctx, procexec.Cmd{Argv: argv, Dir: dir, Env: env, Timeout: queryTimeout, Stdout: io.MultiWriter(pw, &tail)})
	pw.Close()
	scanned := <-scanc
	if !res.Success() {
		if err := oppcli.NoSuchRuns(ctx, inv, dir, env); err != nil {
			return nil, err // every number of -r the config lacks, as the cluster says it
		}
		msg := strings.TrimSpace(res.StderrTail)
		if msg == "" {
			msg = strings.TrimSpace(textutil.LastLines(tail.String(), 5))
		}
		return nil, fmt.Errorf("%s -q rundetails: %s: %s", inv.Args[0], res.Describe(), msg)
	}
	if scanned.err != nil {
		return nil, fmt.Errorf("%s -q rundetails: %w", inv.Args[0], scanned.err)
	}
	// The data files are stamped once hashed: their names come from the
	// runs' configuration.
	inputs.add(data.found())
	scanned.res.Inputs = inputs
	return scanned.res, nil
}

// queryTimeout bounds each query: they only read the ini.
const queryTimeout = 30 * time.Minute

// scanRunDetails reads the program's listing run by run, hashing the data
// files the runs name with data; shared gives the model's key and run 0's
// whole configuration once the first run is read (its ned-path entry may
// add NED directories to the key).
func scanRunDetails(ctx context.Context, r io.Reader, inv oppcli.Invocation, dir string, skip []string, data *dataFiles, shared func() (string, runidentity.Run, error)) (*Resolved, error) {
	out := &Resolved{Runs: []int{}, Identities: map[int]string{}, ResultRoot: "results"}
	var id *runidentity.Identifier
	sc := runidentity.NewScanner(r)
	for sc.Scan() {
		run := sc.Run()
		if id == nil {
			k, base, err := shared()
			if err != nil {
				return nil, err
			}
			if out.ResultRoot, err = oppcli.ResultRootOf(ctx, inv, dir, entry(base, "result-dir")); err != nil {
				return nil, err
			}
			data.writtenIn(inDir(dir, out.ResultRoot))
			for _, s := range skip {
				data.writtenIn(s)
			}
			// The files that the entries every run shares name are in
			// every run's key; those of the entries that vary, in each
			// run's own identity.
			files, err := data.digest(runidentity.Shared(base, run))
			if err != nil {
				return nil, err
			}
			if files != "" {
				k += " data " + files
			}
			if nedPath := entry(base, "ned-path"); nedPath != "" {
				// A global option: run 0's is every run's.
				extra, err := nedDigest(dir, nedDirs(splitPath(nedPath), dir, inv.IniFiles), skip)
				if err != nil {
					return nil, err
				}
				k += " ned-path " + extra
			}
			id = runidentity.New(runidentity.Inputs{ArtifactKey: k, Argv: stableArgv(inv.Args, dir), WorkingDir: ".", Config: inv.Config}).WithBase(base, run)
		}
		var err error
		if run.Files, err = data.digest(run.Entries); err != nil {
			return nil, err
		}
		out.Runs = append(out.Runs, run.Number)
		out.Identities[run.Number] = id.Of(run)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, io.ErrClosedPipe) {
			return nil, err
		}
		// "no runs" from a listing of none is an empty selection.
		if len(out.Runs) == 0 && strings.Contains(err.Error(), "no runs in the output") {
			return out, nil
		}
		return nil, err
	}
	return out, nil
}

// entry is the value of the first entry of key in run ("" if none): the one
// OMNeT++ uses.
func entry(run runidentity.Run, key string) string {
	for _, e := range run.Entries {
		if e.Key == key {
			return strings.Trim(e.Value, `"`)
		}
	}
	return ""
}

// tailWriter keeps the last 4 KiB written, for an error message.
type tailWriter struct{ buf []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return string(t.buf) }
