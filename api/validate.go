package api

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/simswarm/simswarm/internal/textutil"
)

// Bounds checked by Validate.
const (
	MaxTimeout         = 7 * 24 * time.Hour
	MaxRetries         = 100
	MaxLabels          = 64
	MaxAnnotationBytes = 256 << 10
	maxNameLen         = 63
)

var (
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	// Label keys as in Kubernetes: an optional DNS-subdomain prefix and a
	// name of up to 63 characters.
	labelKeyRE   = regexp.MustCompile(`^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)
	labelValueRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	configNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
)

// ValidConfigName reports whether name can be an ini section name, as in
// [Config NAME] (or General). api/sweep applies the same rule.
func ValidConfigName(name string) bool {
	return len(name) <= 256 && configNameRE.MatchString(name)
}

// Validate checks a defaulted campaign. It returns nil or a
// *ValidationError listing every problem with its field path, so that a user
// fixes a manifest in one round.
func Validate(c *Campaign) error {
	if c == nil {
		return &ValidationError{Errors: []FieldError{{Detail: "no campaign"}}}
	}
	v := &validator{}
	v.typeMeta(c)
	v.metadata(&c.Metadata)
	v.spec(&c.Spec)
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Name: c.Metadata.Name, Errors: v.errs}
}

type validator struct {
	errs []FieldError
}

func (v *validator) add(path, value, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Path: path, Value: value, Detail: fmt.Sprintf(format, args...)})
}

func (v *validator) typeMeta(c *Campaign) {
	if c.APIVersion != APIVersion {
		v.add("apiVersion", c.APIVersion, "must be %q, not %q", APIVersion, c.APIVersion)
	}
	if c.Kind != KindCampaign {
		v.add("kind", c.Kind, "must be %q, not %q", KindCampaign, c.Kind)
	}
}

func (v *validator) metadata(m *ObjectMeta) {
	switch {
	case m.Name == "":
		v.add("metadata.name", "", "required: a name of 1-63 characters a-z, 0-9 and '-'")
	case len(m.Name) > maxNameLen || !dnsLabelRE.MatchString(m.Name):
		v.add("metadata.name", m.Name, "%q is not a valid name: use 1-63 characters a-z, 0-9 and '-', starting and ending with a letter or digit", textutil.Truncate(m.Name, 80))
	}
	if len(m.Labels) > MaxLabels {
		v.add("metadata.labels", "", "has %d labels, more than %d", len(m.Labels), MaxLabels)
	}
	for _, k := range sortedKeys(m.Labels) {
		p := "metadata.labels[" + textutil.Truncate(k, 80) + "]"
		if len(k) > 317 || !labelKeyRE.MatchString(k) {
			v.add(p, k, "%q is not a valid label key: [prefix/]name, name up to 63 characters of A-Z, a-z, 0-9, '-', '_', '.'", textutil.Truncate(k, 80))
		}
		if val := m.Labels[k]; len(val) > 63 || !labelValueRE.MatchString(val) {
			v.add(p, val, "%q is not a valid label value: up to 63 characters of A-Z, a-z, 0-9, '-', '_', '.', starting and ending alphanumeric", textutil.Truncate(val, 80))
		}
	}
	size := 0
	for _, k := range sortedKeys(m.Annotations) {
		size += len(k) + len(m.Annotations[k])
		if len(k) > 317 || !labelKeyRE.MatchString(k) {
			v.add("metadata.annotations["+textutil.Truncate(k, 80)+"]", k, "%q is not a valid annotation key", textutil.Truncate(k, 80))
		}
	}
	if size > MaxAnnotationBytes {
		v.add("metadata.annotations", "", "annotations total %d bytes, more than %d", size, MaxAnnotationBytes)
	}
}

func (v *validator) spec(sp *CampaignSpec) {
	v.source(&sp.Source)
	v.build(&sp.Build)
	v.simulation(&sp.Simulation)
	v.workingDirInArtifacts(sp.Simulation.WorkingDir, sp.Build.Artifacts)

	if sp.Results != nil && len(sp.Results) == 0 {
		v.add("spec.results", "", "must list at least one glob (or be left out for the defaults)")
	}
	for i, g := range sp.Results {
		v.glob("spec.results["+strconv.Itoa(i)+"]", g)
	}
	switch t := sp.Timeout.Duration; {
	case t <= 0:
		v.add("spec.timeout", t.String(), "%s must be positive", t)
	case t > MaxTimeout:
		v.add("spec.timeout", t.String(), "%s is longer than the limit of %s", t, MaxTimeout)
	}
	if r := sp.Retries; r != nil && (*r < 0 || *r > MaxRetries) {
		v.add("spec.retries", strconv.Itoa(int(*r)), "%d is not in 0..%d", *r, MaxRetries)
	}
	if sp.Parallelism < 0 {
		v.add("spec.parallelism", strconv.Itoa(int(sp.Parallelism)), "%d must not be negative (0 means all available)", sp.Parallelism)
	}
	if sp.Stop != nil {
		v.stop(sp.Stop)
	}
}

func (v *validator) source(s *SourceSpec) {
	switch {
	case s.Path == "" && s.Git == nil:
		v.add("spec.source", "", "one of path or git is required")
	case s.Path != "" && s.Git != nil:
		v.add("spec.source", "", "path and git are exclusive: give one")
	}
	if s.Path != "" && strings.ContainsRune(s.Path, 0) {
		v.add("spec.source.path", s.Path, "must not contain NUL")
	}
	if g := s.Git; g != nil {
		// Both reach git's argv: a leading '-' would be taken as an option.
		if g.URL == "" {
			v.add("spec.source.git.url", "", "required")
		} else if strings.HasPrefix(g.URL, "-") || strings.ContainsAny(g.URL, " \t\n\x00") {
			v.add("spec.source.git.url", g.URL, "%q is not a repository URL", textutil.Truncate(g.URL, 80))
		}
		if g.Commit == "" {
			v.add("spec.source.git.commit", "", "required: a commit hash (or a ref)")
		} else if strings.HasPrefix(g.Commit, "-") || strings.ContainsAny(g.Commit, " \t\n\x00") || len(g.Commit) > 256 {
			v.add("spec.source.git.commit", g.Commit, "%q is not a commit or ref", textutil.Truncate(g.Commit, 80))
		}
	}
	if s.Archive != "" && !sha256RE.MatchString(s.Archive) {
		v.add("spec.source.archive", s.Archive, "%q is not a sha256 in lower-case hex", textutil.Truncate(s.Archive, 80))
	}
}

func (v *validator) build(b *BuildSpec) {
	if strings.ContainsAny(b.Image, " \t\n\x00") {
		v.add("spec.build.image", b.Image, "%q is not an image reference", textutil.Truncate(b.Image, 80))
	}
	switch {
	case b.Command != nil && len(b.Command) == 0:
		v.add("spec.build.command", "", "must not be empty (leave it out for [make], or say prebuilt: true for no build)")
	case b.Prebuilt && b.Command != nil:
		v.add("spec.build.command", fmt.Sprintf("%q", b.Command), "a prebuilt model runs no build command (leave command out)")
	}
	v.argv("spec.build.command", b.Command)
	v.env("spec.build.env", b.Env)
	if b.Artifacts != nil && len(b.Artifacts) == 0 {
		v.add("spec.build.artifacts", "", "must list at least one path (leave it out for [.])")
	}
	for i, a := range b.Artifacts {
		v.relPath("spec.build.artifacts["+strconv.Itoa(i)+"]", a)
	}
}

func (v *validator) simulation(s *SimulationSpec) {
	v.relPath("spec.simulation.workingDir", s.WorkingDir)
	if len(s.Program) == 0 {
		v.add("spec.simulation.program", "", "required: the program's argv, e.g. [./aloha] or [opp_run, -l, ../src/INET]")
	}
	v.argv("spec.simulation.program", s.Program)
	v.relPath("spec.simulation.iniFile", s.IniFile)
	if s.IniFile != "" && path.Clean(s.IniFile) == "." {
		v.add("spec.simulation.iniFile", s.IniFile, "%q is a directory, not an ini file", s.IniFile)
	}
	if !ValidConfigName(s.Config) {
		v.add("spec.simulation.config", s.Config, "%q is not a config name: letters, digits, '_', '.', '-', starting with a letter or '_'", textutil.Truncate(s.Config, 80))
	}
	if IsRunExpression(s.Runs) {
		if len(s.Runs) > 1024 || strings.ContainsAny(s.Runs, "\x00\n\r") {
			v.add("spec.simulation.runs", s.Runs, "%q: a filter expression is one line of at most 1024 bytes", textutil.Truncate(s.Runs, 80))
		}
	} else if s.Runs != "" {
		f, err := ParseRunFilter(s.Runs)
		switch {
		case err != nil:
			v.add("spec.simulation.runs", s.Runs, "%s", err)
		case f.Count() > MaxRuns:
			v.add("spec.simulation.runs", s.Runs, "%q selects %d runs, more than the limit of %d", textutil.Truncate(s.Runs, 80), f.Count(), MaxRuns)
		}
	}
	v.env("spec.simulation.env", s.Env)
}

func (v *validator) argv(p string, argv []string) {
	for i, a := range argv {
		switch {
		case a == "":
			v.add(p+"["+strconv.Itoa(i)+"]", a, "must not be an empty string")
		case strings.ContainsRune(a, 0):
			v.add(p+"["+strconv.Itoa(i)+"]", a, "must not contain NUL")
		}
	}
}

func (v *validator) env(p string, env map[string]string) {
	for _, k := range sortedKeys(env) {
		if !envNameRE.MatchString(k) {
			v.add(p+"["+textutil.Truncate(k, 80)+"]", k, "%q is not an environment variable name", textutil.Truncate(k, 80))
		}
		if strings.ContainsRune(env[k], 0) {
			v.add(p+"["+textutil.Truncate(k, 80)+"]", env[k], "value must not contain NUL")
		}
	}
}

// relPath checks a path that must stay inside its base directory.
// workingDirInArtifacts checks that the runs' working directory lies in
// the build's artifacts (WorkingDirInArtifacts).
func (v *validator) workingDirInArtifacts(wd string, artifacts []string) {
	if relPathProblem(wd) != "" || len(artifacts) == 0 {
		return // reported on its own
	}
	for _, a := range artifacts {
		if relPathProblem(a) != "" {
			return // reported on its own
		}
	}
	if !WorkingDirInArtifacts(wd, artifacts) {
		v.add("spec.simulation.workingDir", wd, "%q is not in the build's artifacts (%s): runs start in it, in the unpacked artifacts",
			textutil.Truncate(wd, 80), textutil.Truncate(strings.Join(artifacts, ", "), 200))
	}
}

// WorkingDirInArtifacts reports whether the directory wd (relative, as
// validated) lies in a build whose artifacts are the given paths: on
// workers the runs start in it inside the unpacked artifacts, not in the
// source tree. It does when it is "." or an artifact or below one, or
// holds one (unpacking creates it as that artifact's parent); whether it
// is a directory only the built tree can tell.
func WorkingDirInArtifacts(wd string, artifacts []string) bool {
	d := path.Clean(wd)
	if d == "." {
		return true
	}
	for _, a := range artifacts {
		a = path.Clean(a)
		if a == "." || d == a || strings.HasPrefix(d, a+"/") || strings.HasPrefix(a, d+"/") {
			return true
		}
	}
	return false
}

func (v *validator) relPath(p, s string) {
	if msg := relPathProblem(s); msg != "" {
		v.add(p, s, "%q %s", textutil.Truncate(s, 80), msg)
	}
}

func relPathProblem(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.ContainsRune(s, 0):
		return "must not contain NUL"
	case strings.Contains(s, `\`):
		return "must use '/' as separator"
	case path.IsAbs(s):
		return "must be a relative path"
	}
	if c := path.Clean(s); c == ".." || strings.HasPrefix(c, "../") {
		return "must not leave its base directory (..)"
	}
	return ""
}

func (v *validator) glob(p, g string) {
	if msg := relPathProblem(g); msg != "" {
		v.add(p, g, "%q %s", textutil.Truncate(g, 80), msg)
		return
	}
	if _, err := path.Match(g, ""); err != nil {
		v.add(p, g, "%q is not a valid glob: %v", textutil.Truncate(g, 80), err)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
