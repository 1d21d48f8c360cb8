package api

import (
	"reflect"
	"testing"
	"time"
)

func int32p(v int32) *int32 { return &v }

func TestSetDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   CampaignSpec
		want CampaignSpec
	}{
		{
			name: "everything left out",
			in:   CampaignSpec{Source: SourceSpec{Path: "."}, Simulation: SimulationSpec{Program: []string{"./aloha"}}},
			want: CampaignSpec{
				Source:     SourceSpec{Path: "."},
				Build:      BuildSpec{Command: []string{"make"}, Artifacts: []string{"."}},
				Simulation: SimulationSpec{WorkingDir: ".", Program: []string{"./aloha"}, IniFile: "omnetpp.ini", Config: "General"},
				Results:    []string{"results/*.sca", "results/*.vec", "results/*.vci", "results/*.out"},
				Timeout:    Duration{time.Hour},
				Retries:    int32p(2),
			},
		},
		{
			name: "given values are kept, explicit zero retries too",
			in: CampaignSpec{
				Build:      BuildSpec{Command: []string{"make", "MODE=release"}, Artifacts: []string{"out"}},
				Simulation: SimulationSpec{WorkingDir: "sim", IniFile: "a.ini", Config: "PureAloha"},
				Results:    []string{"out/*.sca"},
				Timeout:    Duration{time.Minute},
				Retries:    int32p(0),
			},
			want: CampaignSpec{
				Build:      BuildSpec{Command: []string{"make", "MODE=release"}, Artifacts: []string{"out"}},
				Simulation: SimulationSpec{WorkingDir: "sim", IniFile: "a.ini", Config: "PureAloha"},
				Results:    []string{"out/*.sca"},
				Timeout:    Duration{time.Minute},
				Retries:    int32p(0),
			},
		},
		{
			name: "explicitly empty lists stay empty for Validate to report",
			in:   CampaignSpec{Build: BuildSpec{Command: []string{}, Artifacts: []string{}}, Results: []string{}},
			want: CampaignSpec{
				Build:      BuildSpec{Command: []string{}, Artifacts: []string{}},
				Simulation: SimulationSpec{WorkingDir: ".", IniFile: "omnetpp.ini", Config: "General"},
				Results:    []string{},
				Timeout:    Duration{time.Hour},
				Retries:    int32p(2),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Campaign{Spec: tt.in}
			SetDefaults(c)
			if !reflect.DeepEqual(c.Spec, tt.want) {
				t.Errorf("SetDefaults:\n got %+v\nwant %+v", c.Spec, tt.want)
			}
			if c.APIVersion != APIVersion || c.Kind != KindCampaign {
				t.Errorf("type meta not defaulted: %+v", c.TypeMeta)
			}
			again := *c
			again.Spec.Retries = int32p(*c.Spec.Retries)
			SetDefaults(&again)
			if !reflect.DeepEqual(again, *c) {
				t.Errorf("SetDefaults is not idempotent:\n once  %+v\n twice %+v", *c, again)
			}
		})
	}
}

// The default result globs are a fresh slice each time: one campaign's
// edits cannot leak into another's defaults.
func TestDefaultResultsNotShared(t *testing.T) {
	a, b := &Campaign{}, &Campaign{}
	SetDefaults(a)
	a.Spec.Results[0] = "changed"
	SetDefaults(b)
	if b.Spec.Results[0] != "results/*.sca" {
		t.Errorf("defaults shared between campaigns: %v", b.Spec.Results)
	}
}

// Decoding a minimal manifest and defaulting it gives a valid campaign.
func TestMinimalManifestDefaultsToValid(t *testing.T) {
	cs, err := ParseManifests([]byte("apiVersion: simswarm.io/v1alpha1\nkind: Campaign\nmetadata: {name: m}\nspec: {source: {path: .}, simulation: {program: [./aloha]}}\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	SetDefaults(cs[0])
	if err := Validate(cs[0]); err != nil {
		t.Errorf("defaulted minimal manifest is invalid: %v", err)
	}
}

// A prebuilt model gets no build command: nothing runs before its runs.
func TestPrebuiltHasNoBuildCommand(t *testing.T) {
	c := &Campaign{Spec: CampaignSpec{Build: BuildSpec{Prebuilt: true}}}
	SetDefaults(c)
	if c.Spec.Build.Command != nil || len(c.Spec.Build.Artifacts) != 1 {
		t.Fatalf("build %+v", c.Spec.Build)
	}
}
