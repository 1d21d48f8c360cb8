package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/workers/oppcli"
	"github.com/simswarm/simswarm/workers/procexec"
)

// PrepareOptions say where Prepare works.
type PrepareOptions struct {
	// WorkDir receives the source copy (WorkDir/src) and the build log.
	WorkDir string
	// Skip lists directories never copied from a path source (the results
	// directory when it lies inside the source).
	Skip []string
	// Jobs is make's parallelism (MAKEFLAGS=-jN); 0 = number of CPUs.
	Jobs int
	// Log receives progress lines ("building ...").
	Log io.Writer
}

// Prepare gets c's source into opts.WorkDir, builds it, and resolves its
// runs; manifestDir is where source.path is relative to. A source that is
// not there is an api.FieldError, runs the program does not have an
// *api.NoSuchRunsError: the manifest's fault, not the build's or a run's.
func Prepare(ctx context.Context, c *api.Campaign, manifestDir string, opts PrepareOptions) (*Plan, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	spec := c.Spec
	src := filepath.Join(opts.WorkDir, "src")
	switch {
	case spec.Source.Git != nil:
		fmt.Fprintf(log, "fetching %s at %s\n", spec.Source.Git.URL, spec.Source.Git.Commit)
		if err := GitCheckout(ctx, spec.Source.Git.URL, spec.Source.Git.Commit, src); err != nil {
			return nil, fmt.Errorf("source: %w", err)
		}
	case spec.Source.Path != "":
		from := spec.Source.Path
		if !filepath.IsAbs(from) {
			from = filepath.Join(manifestDir, from)
		}
		if st, err := os.Stat(from); err != nil || !st.IsDir() {
			return nil, api.FieldError{Path: "spec.source.path", Value: spec.Source.Path, Detail: from + " is not a directory"}
		}
		if err := os.MkdirAll(src, 0o755); err != nil {
			return nil, err
		}
		if err := syncTree(from, src, append([]string{opts.WorkDir}, opts.Skip...)); err != nil {
			return nil, fmt.Errorf("copy source %s: %w", from, err)
		}
	default:
		return nil, api.FieldError{Path: "spec.source", Detail: "neither path nor git is set"}
	}

	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	if err := build(ctx, spec.Build, src, opts.WorkDir, jobs, log); err != nil {
		return nil, err
	}

	dir := filepath.Join(src, spec.Simulation.WorkingDir)
	env := mergeEnv(os.Environ(), spec.Simulation.Env)
	args := append(slices.Clone(spec.Simulation.Program), "-f", spec.Simulation.IniFile, "-c", spec.Simulation.Config)
	if spec.Simulation.Runs != "" {
		args = append(args, "-r", spec.Simulation.Runs)
	}
	inv, err := oppcli.ParseInvocation(args)
	if err != nil {
		return nil, fmt.Errorf("spec.simulation: %w", err)
	}
	resolved, err := Resolve(ctx, inv, dir, env, nil)
	var noSuchRuns *api.NoSuchRunsError
	switch {
	case errors.As(err, &noSuchRuns):
		// The cluster refuses the campaign with the same words.
		return nil, fmt.Errorf("spec.simulation.runs %q: %w", spec.Simulation.Runs, noSuchRuns)
	case err != nil:
		return nil, fmt.Errorf("resolve runs: %w", err)
	}
	retries := 0
	if spec.Retries != nil {
		retries = int(*spec.Retries)
	}
	return &Plan{
		Name:       c.Metadata.Name,
		Args:       inv.BatchArgs(),
		Dir:        dir,
		Env:        env,
		Config:     spec.Simulation.Config,
		Identities: resolved.Identities,
		Inputs:     resolved.Inputs,
		Runs:       resolved.Runs,
		BatchSize:  0, // opp_runall's default
		Timeout:    spec.Timeout.Duration,
		Retries:    retries,
		Results:    spec.Results,
	}, nil
}

// build runs the build command in src with make's parallelism in MAKEFLAGS,
// keeping the full output in WorkDir/build.log.
func build(ctx context.Context, b api.BuildSpec, src, workDir string, jobs int, log io.Writer) error {
	if len(b.Command) == 0 {
		return nil
	}
	logPath := filepath.Join(workDir, "build.log")
	f, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("build log: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(log, "building: %s (make -j%d, log in %s)\n", strings.Join(b.Command, " "), jobs, logPath)
	env := mergeEnv(os.Environ(), b.Env)
	env = mergeEnv(env, map[string]string{"MAKEFLAGS": fmt.Sprintf("-j%d", jobs)})
	res := procexec.Run(ctx, procexec.Cmd{Argv: b.Command, Dir: src, Env: env, Stdout: f, Stderr: f, TailBytes: 2048})
	if !res.Success() {
		return fmt.Errorf("build %q: %s\n%s", strings.Join(b.Command, " "), res.Describe(), indent(res.StderrTail))
	}
	fmt.Fprintf(log, "built in %s\n", res.Duration.Round(1e7))
	return nil
}

// mergeEnv returns base with the variables of add set (replacing).
func mergeEnv(base []string, add map[string]string) []string {
	if len(add) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(add))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := add[k]; !ok {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+add[k])
	}
	return out
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
