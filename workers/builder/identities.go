package builder

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/simswarm/simswarm/internal/textutil"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
	"github.com/simswarm/simswarm/workers/runidentity"
	"github.com/simswarm/simswarm/workers/runlist"
)

// DefaultMaxIdentifiedRuns bounds the runs of a list that get identities
// (the API's own limit of runs per campaign): the two queries of
// runidentity take the program time linear in the runs (100,000 runs of
// the aloha sample: about 2 s for -q rundetails).
const DefaultMaxIdentifiedRuns = 1_000_000

// identityQueryTimeout bounds each query.
const identityQueryTimeout = 30 * time.Minute

// identityBase asks the program what every run of the query shares (`-q
// runconfig -r 0`), the first of identify's two queries, before the runs
// are listed: a program that cannot answer it (a build by an older
// version without a model key, a stand-in that knows only -q runs) gets no
// identities, and its list is stored as the program writes it. It
// returns false and why when there is none.
func identityBase(ctx context.Context, q runlist.Query, dir string, env []string, modelKey string) (runidentity.Run, bool, string) {
	if modelKey == "" {
		return runidentity.Run{}, false, "the build has no model key (built by an older version)"
	}
	var baseOut bytes.Buffer
	res := procexec.Run(ctx, procexec.Cmd{Argv: runidentity.BaseArgv(q.Program, q.IniFile, q.Config), Dir: dir, Env: env,
		Timeout: identityQueryTimeout, Stdout: &baseOut})
	if !res.Success() {
		return runidentity.Run{}, false, fmt.Sprintf("%s -q runconfig -r 0: %s: %s", q.Program[0], res.Describe(), textutil.Truncate(res.StderrTail, 500))
	}
	base, err := runidentity.ParseBase(&baseOut)
	if err != nil {
		return runidentity.Run{}, false, fmt.Sprintf("%s -q runconfig -r 0: %v", q.Program[0], err)
	}
	return base, true, ""
}

// identify computes the identities of the listed runs (package
// runidentity) from base, the program's `-q runconfig -r 0` (what every
// run shares, identityBase), and `-q rundetails` (each run's own
// entries), streamed: the output is never held whole. It returns nil and
// why when there are none: a program that does not answer the query, or
// whose answer disagrees with its run list.
// Such a list is saved without identities, and its runs are simply not
// reused.
func identify(ctx context.Context, q runlist.Query, dir string, env []string, modelKey string, base runidentity.Run, runs []oppcli.RunInfo, maxRuns int) ([]string, string) {
	if maxRuns <= 0 {
		maxRuns = DefaultMaxIdentifiedRuns
	}
	if len(runs) > maxRuns {
		return nil, fmt.Sprintf("%d runs, more than the %d whose identities the builder asks for", len(runs), maxRuns)
	}
	if len(runs) == 0 {
		return []string{}, ""
	}
	idf := runidentity.New(runidentity.Inputs{ArtifactKey: modelKey, Argv: q.Program, WorkingDir: q.WorkingDir, Config: q.Config})
	pr, pw := io.Pipe()
	type outcome struct {
		ids []string
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		ids := make([]string, 0, len(runs))
		sc := runidentity.NewScanner(pr)
		var err error
		var id *runidentity.Identifier
		for sc.Scan() {
			r := sc.Run()
			i := len(ids)
			if i >= len(runs) || runs[i].Number != r.Number || runs[i].Vars != r.Vars {
				err = fmt.Errorf("-q rundetails lists run %d (%s) where -q runs lists another", r.Number, r.Vars)
				break
			}
			if id == nil {
				id = idf.WithBase(base, r)
			}
			ids = append(ids, id.Of(r))
		}
		if err == nil {
			err = sc.Err()
		}
		if err == nil && len(ids) != len(runs) {
			err = fmt.Errorf("-q rundetails lists %d runs, -q runs %d", len(ids), len(runs))
		}
		// Drain what is left: a program blocked on a full pipe would never
		// exit.
		io.Copy(io.Discard, pr)
		done <- outcome{ids, err}
	}()
	res := procexec.Run(ctx, procexec.Cmd{Argv: runidentity.DetailsArgv(q.Program, q.IniFile, q.Config, q.Filter), Dir: dir, Env: env,
		Timeout: identityQueryTimeout, Stdout: pw})
	pw.Close()
	out := <-done
	if !res.Success() {
		return nil, fmt.Sprintf("%s -q rundetails: %s: %s", q.Program[0], res.Describe(), textutil.Truncate(res.StderrTail, 500))
	}
	if out.err != nil {
		return nil, q.Program[0] + " " + out.err.Error()
	}
	return out.ids, ""
}
