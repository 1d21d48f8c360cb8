package api

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// validCampaign is a defaulted, valid campaign that each case breaks.
func validCampaign() *Campaign {
	c := &Campaign{
		TypeMeta: TypeMeta{APIVersion: APIVersion, Kind: KindCampaign},
		Metadata: ObjectMeta{Name: "aloha-2", Labels: map[string]string{"team": "net", "simswarm.io/owner": "ada"}},
		Spec: CampaignSpec{
			Source:     SourceSpec{Path: "examples/aloha"},
			Simulation: SimulationSpec{Program: []string{"./aloha", "-n", "."}, Config: "PureAloha", Runs: "0..9,20"},
		},
	}
	SetDefaults(c)
	return c
}

func TestValidateAcceptsValid(t *testing.T) {
	for name, mod := range map[string]func(c *Campaign){
		"as is": func(c *Campaign) {},
		"git source": func(c *Campaign) {
			c.Spec.Source = SourceSpec{Git: &GitSource{URL: "https://github.com/inet-framework/inet.git", Commit: "v4.5.2"}}
		},
		"63-char name":  func(c *Campaign) { c.Metadata.Name = strings.Repeat("a", 63) },
		"1-char name":   func(c *Campaign) { c.Metadata.Name = "a" },
		"7 day timeout": func(c *Campaign) { c.Spec.Timeout.Duration = 7 * 24 * time.Hour },
		"zero retries":  func(c *Campaign) { *c.Spec.Retries = 0 },
		"100 retries":   func(c *Campaign) { *c.Spec.Retries = 100 },
		"nested paths": func(c *Campaign) {
			c.Spec.Simulation.WorkingDir = "simulations/a/../b"
			c.Spec.Results = []string{"results/**.sca", "out/[a-z]*.vec"}
		},
		"1,000,000 runs":    func(c *Campaign) { c.Spec.Simulation.Runs = "0..999999" },
		"filter expression": func(c *Campaign) { c.Spec.Simulation.Runs = "$numHosts>10 and $iaMean==2" },
		"prebuilt": func(c *Campaign) {
			c.Spec.Build = BuildSpec{Prebuilt: true}
			SetDefaults(c)
		},
		"empty runs = all":    func(c *Campaign) { c.Spec.Simulation.Runs = "" },
		"archive digest":      func(c *Campaign) { c.Spec.Source.Archive = strings.Repeat("ab", 32) },
		"env":                 func(c *Campaign) { c.Spec.Simulation.Env = map[string]string{"OMP_NUM_THREADS": "1"} },
		"config with a dot":   func(c *Campaign) { c.Spec.Simulation.Config = "Aloha.v2-fast" },
		"parallelism 0 = all": func(c *Campaign) { c.Spec.Parallelism = 0 },
		"workingDir is an artifact": func(c *Campaign) {
			c.Spec.Build.Artifacts = []string{"queueinglib", "queuenet"}
			c.Spec.Simulation.WorkingDir = "queuenet"
		},
		"workingDir inside an artifact": func(c *Campaign) {
			c.Spec.Build.Artifacts = []string{"inet/src/libINET.so", "inet/examples/"}
			c.Spec.Simulation.WorkingDir = "inet/examples/ethernet/lans"
		},
		"workingDir holds an artifact": func(c *Campaign) {
			c.Spec.Build.Artifacts = []string{"bin/aloha", "sims/aloha/omnetpp.ini"}
			c.Spec.Simulation.WorkingDir = "./sims"
		},
		"workingDir . with file artifacts": func(c *Campaign) { c.Spec.Build.Artifacts = []string{"aloha", "omnetpp.ini"} },
	} {
		c := validCampaign()
		mod(c)
		if err := Validate(c); err != nil {
			t.Errorf("%s: unexpected error: %v", name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Campaign)
		want string // the one expected "path: detail" line
	}{
		{"runs reversed", func(c *Campaign) { c.Spec.Simulation.Runs = "5..2" },
			`spec.simulation.runs: "5..2" is not a valid range: 5 is greater than 2`},
		{"runs too many", func(c *Campaign) { c.Spec.Simulation.Runs = "0..1000000" },
			`spec.simulation.runs: "0..1000000" selects 1000001 runs, more than the limit of 1000000`},
		{"runs 10^12", func(c *Campaign) { c.Spec.Simulation.Runs = "0..999999999999" },
			`spec.simulation.runs: "0..999999999999" is not a valid range: 999999999999 is larger than the largest run number 2147483647`},
		{"runs garbage", func(c *Campaign) { c.Spec.Simulation.Runs = "a..b" },
			`spec.simulation.runs: "a..b" is not a valid range: "a" is not a number`},
		{"no name", func(c *Campaign) { c.Metadata.Name = "" },
			`metadata.name: required: a name of 1-63 characters a-z, 0-9 and '-'`},
		{"upper-case name", func(c *Campaign) { c.Metadata.Name = "Aloha" },
			`metadata.name: "Aloha" is not a valid name: use 1-63 characters a-z, 0-9 and '-', starting and ending with a letter or digit`},
		{"name ends with -", func(c *Campaign) { c.Metadata.Name = "aloha-" }, `metadata.name: "aloha-" is not a valid name`},
		{"name 64 chars", func(c *Campaign) { c.Metadata.Name = strings.Repeat("a", 64) }, `metadata.name: "aaaa`},
		{"label key", func(c *Campaign) { c.Metadata.Labels["bad key"] = "x" }, `metadata.labels[bad key]: "bad key" is not a valid label key`},
		{"label value", func(c *Campaign) { c.Metadata.Labels["team"] = strings.Repeat("x", 64) }, `metadata.labels[team]: "xxxx`},
		{"too many labels", func(c *Campaign) {
			for i := range 70 {
				c.Metadata.Labels["l"+strconv.Itoa(i)] = "v"
			}
		}, `metadata.labels: has 72 labels, more than 64`},
		{"huge annotations", func(c *Campaign) { c.Metadata.Annotations = map[string]string{"note": strings.Repeat("x", 300<<10)} },
			`metadata.annotations: annotations total 307204 bytes, more than 262144`},
		{"no source", func(c *Campaign) { c.Spec.Source.Path = "" }, `spec.source: one of path or git is required`},
		{"both sources", func(c *Campaign) { c.Spec.Source.Git = &GitSource{URL: "u", Commit: "c"} }, `spec.source: path and git are exclusive: give one`},
		{"git without commit", func(c *Campaign) { c.Spec.Source = SourceSpec{Git: &GitSource{URL: "https://x/y.git"}} },
			`spec.source.git.commit: required: a commit hash (or a ref)`},
		{"git url is an option", func(c *Campaign) {
			c.Spec.Source = SourceSpec{Git: &GitSource{URL: "--upload-pack=evil", Commit: "abc"}}
		},
			`spec.source.git.url: "--upload-pack=evil" is not a repository URL`},
		{"bad archive", func(c *Campaign) { c.Spec.Source.Archive = "xyz" }, `spec.source.archive: "xyz" is not a sha256 in lower-case hex`},
		{"empty program", func(c *Campaign) { c.Spec.Simulation.Program = nil },
			`spec.simulation.program: required: the program's argv, e.g. [./aloha] or [opp_run, -l, ../src/INET]`},
		{"empty argv string", func(c *Campaign) { c.Spec.Simulation.Program = []string{"./aloha", ""} },
			`spec.simulation.program[1]: must not be an empty string`},
		{"empty build command", func(c *Campaign) { c.Spec.Build.Command = []string{} },
			`spec.build.command: must not be empty (leave it out for [make], or say prebuilt: true for no build)`},
		{"prebuilt with a command", func(c *Campaign) { c.Spec.Build.Prebuilt = true },
			`spec.build.command: a prebuilt model runs no build command (leave command out)`},
		{"filter expression on two lines", func(c *Campaign) { c.Spec.Simulation.Runs = "$a>1\n" },
			`spec.simulation.runs: "$a>1\n": a filter expression is one line of at most 1024 bytes`},
		{"build argv with empty string", func(c *Campaign) { c.Spec.Build.Command = []string{"make", ""} },
			`spec.build.command[1]: must not be an empty string`},
		{"absolute workingDir", func(c *Campaign) { c.Spec.Simulation.WorkingDir = "/etc" }, `spec.simulation.workingDir: "/etc" must be a relative path`},
		{"escaping iniFile", func(c *Campaign) { c.Spec.Simulation.IniFile = "a/../../x.ini" },
			`spec.simulation.iniFile: "a/../../x.ini" must not leave its base directory (..)`},
		{"iniFile is a directory", func(c *Campaign) { c.Spec.Simulation.IniFile = "a/.." }, `spec.simulation.iniFile: "a/.." is a directory, not an ini file`},
		{"escaping artifact", func(c *Campaign) { c.Spec.Build.Artifacts = []string{".", ".."} },
			`spec.build.artifacts[1]: ".." must not leave its base directory (..)`},
		{"workingDir not in the artifacts", func(c *Campaign) {
			c.Spec.Build.Artifacts = []string{"queueinglib", "queuenet/omnetpp.ini"}
			c.Spec.Simulation.WorkingDir = "simulations"
		}, `spec.simulation.workingDir: "simulations" is not in the build's artifacts (queueinglib, queuenet/omnetpp.ini): runs start in it, in the unpacked artifacts`},
		{"workingDir beside an artifact of the same prefix", func(c *Campaign) {
			c.Spec.Build.Artifacts = []string{"queuenet2"}
			c.Spec.Simulation.WorkingDir = "queuenet"
		}, `spec.simulation.workingDir: "queuenet" is not in the build's artifacts (queuenet2)`},
		{"no artifacts", func(c *Campaign) { c.Spec.Build.Artifacts = []string{} },
			`spec.build.artifacts: must list at least one path (leave it out for [.])`},
		{"bad glob", func(c *Campaign) { c.Spec.Results = []string{"results/[a-"} },
			`spec.results[0]: "results/[a-" is not a valid glob: syntax error in pattern`},
		{"absolute glob", func(c *Campaign) { c.Spec.Results = []string{"results/*.sca", "/tmp/*"} }, `spec.results[1]: "/tmp/*" must be a relative path`},
		{"no results", func(c *Campaign) { c.Spec.Results = []string{} }, `spec.results: must list at least one glob (or be left out for the defaults)`},
		{"zero timeout", func(c *Campaign) { c.Spec.Timeout.Duration = 0 }, `spec.timeout: 0s must be positive`},
		{"negative timeout", func(c *Campaign) { c.Spec.Timeout.Duration = -time.Second }, `spec.timeout: -1s must be positive`},
		{"8 day timeout", func(c *Campaign) { c.Spec.Timeout.Duration = 8 * 24 * time.Hour }, `spec.timeout: 192h0m0s is longer than the limit of 168h0m0s`},
		{"retries 101", func(c *Campaign) { *c.Spec.Retries = 101 }, `spec.retries: 101 is not in 0..100`},
		{"retries -1", func(c *Campaign) { *c.Spec.Retries = -1 }, `spec.retries: -1 is not in 0..100`},
		{"parallelism -1", func(c *Campaign) { c.Spec.Parallelism = -1 }, `spec.parallelism: -1 must not be negative (0 means all available)`},
		{"config with space", func(c *Campaign) { c.Spec.Simulation.Config = "Pure Aloha" },
			`spec.simulation.config: "Pure Aloha" is not a config name: letters, digits, '_', '.', '-', starting with a letter or '_'`},
		{"env name", func(c *Campaign) { c.Spec.Build.Env = map[string]string{"1X": "y"} }, `spec.build.env[1X]: "1X" is not an environment variable name`},
		{"wrong kind", func(c *Campaign) { c.Kind = "Stack" }, `kind: must be "Campaign", not "Stack"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCampaign()
			tt.mod(c)
			err := Validate(c)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			if len(ve.Errors) != 1 {
				t.Fatalf("want exactly one problem, got:\n%v", err)
			}
			if got := ve.Errors[0].Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestValidateReportsAllProblemsAtOnce(t *testing.T) {
	c := validCampaign()
	c.Metadata.Name = "Bad_Name"
	c.Spec.Source.Git = &GitSource{}
	c.Spec.Simulation.Program = []string{""}
	c.Spec.Simulation.Runs = "5..2"
	c.Spec.Simulation.WorkingDir = "../up"
	c.Spec.Results = []string{"["}
	c.Spec.Timeout.Duration = 0
	*c.Spec.Retries = 1000
	c.Spec.Parallelism = -4
	err := Validate(c)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	var paths []string
	for _, fe := range ve.Errors {
		paths = append(paths, fe.Path)
	}
	want := []string{"metadata.name", "spec.source", "spec.source.git.url", "spec.source.git.commit",
		"spec.simulation.workingDir", "spec.simulation.program[0]", "spec.simulation.runs",
		"spec.results[0]", "spec.timeout", "spec.retries", "spec.parallelism"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths:\n got %v\nwant %v", paths, want)
	}
	if ve.Name != "Bad_Name" {
		t.Errorf("Name = %q", ve.Name)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, `campaign "Bad_Name" is invalid:`+"\n  metadata.name: ") ||
		!strings.Contains(msg, "\n  spec.simulation.runs: \"5..2\" is not a valid range") {
		t.Errorf("message:\n%s", msg)
	}
	if ve.Errors[6].Value != "5..2" {
		t.Errorf("runs problem Value = %q, want the offending value", ve.Errors[6].Value)
	}
}

func TestValidateNil(t *testing.T) {
	if Validate(nil) == nil {
		t.Error("Validate(nil) = nil")
	}
}
