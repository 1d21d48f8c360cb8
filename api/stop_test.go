package api

import (
	"errors"
	"math"
	"strings"
	"testing"
)

const stopDoc = validDoc + `  stop:
    scalar: "Aloha.server.channelUtilization:last"
    relativeHalfWidth: 0.05
`

// TestStopRuleDecodesAndDefaults: a manifest's stop rule reaches the spec,
// with the confidence and minimum repetitions it left out defaulted.
func TestStopRuleDecodesAndDefaults(t *testing.T) {
	cs, err := ParseManifests([]byte(stopDoc), "campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	SetDefaults(c)
	want := StopRule{Scalar: "Aloha.server.channelUtilization:last", Confidence: 0.95, RelativeHalfWidth: 0.05, MinRepetitions: 3}
	if c.Spec.Stop == nil || *c.Spec.Stop != want {
		t.Fatalf("spec.stop = %+v, want %+v", c.Spec.Stop, want)
	}
	if err := Validate(c); err != nil {
		t.Fatal(err)
	}
	given := strings.Replace(stopDoc, "    relativeHalfWidth: 0.05\n", "    relativeHalfWidth: 0.1\n    confidence: 0.9\n    minRepetitions: 5\n", 1)
	cs, err = ParseManifests([]byte(given), "campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	SetDefaults(cs[0])
	if got := *cs[0].Spec.Stop; got != (StopRule{Scalar: want.Scalar, Confidence: 0.9, RelativeHalfWidth: 0.1, MinRepetitions: 5}) {
		t.Fatalf("given values changed by defaulting: %+v", got)
	}
}

func TestStopRuleDecodeErrors(t *testing.T) {
	for name, tt := range map[string]struct{ from, to, want string }{
		"misspelled field": {"relativeHalfWidth:", "relHalfWidth:",
			`campaign.yaml: document 1: spec.stop.relHalfWidth: unknown field (known fields: confidence, minRepetitions, relativeHalfWidth, scalar)`},
		"half-width not a number": {"relativeHalfWidth: 0.05", "relativeHalfWidth: 5%",
			`campaign.yaml: document 1: spec.stop.relativeHalfWidth: expected a number, got string "5%"`},
		"fractional repetitions": {"relativeHalfWidth: 0.05", "relativeHalfWidth: 0.05\n    minRepetitions: 2.5",
			`campaign.yaml: document 1: spec.stop.minRepetitions: expected an integer, got 2.5`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := decodeErr(t, strings.Replace(stopDoc, tt.from, tt.to, 1)); got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestStopRuleValidation(t *testing.T) {
	valid := func() *Campaign {
		c := validCampaign()
		c.Spec.Stop = &StopRule{Scalar: "Aloha.server.channelUtilization:last", RelativeHalfWidth: 0.05}
		SetDefaults(c)
		return c
	}
	for name, mod := range map[string]func(*StopRule){
		"as defaulted":       func(*StopRule) {},
		"statistic's field":  func(s *StopRule) { s.Scalar = "Aloha.server.collisionLength:histogram:mean" },
		"indexed module":     func(s *StopRule) { s.Scalar = "Net.host[3].app.rcvdPk:count" },
		"two repetitions":    func(s *StopRule) { s.MinRepetitions = 2 },
		"whole mean (1)":     func(s *StopRule) { s.RelativeHalfWidth = 1 },
		"99.9% confidence":   func(s *StopRule) { s.Confidence = 0.999 },
		"10,000 repetitions": func(s *StopRule) { s.MinRepetitions = 10_000 },
	} {
		t.Run("accepts "+name, func(t *testing.T) {
			c := valid()
			mod(c.Spec.Stop)
			if err := Validate(c); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, tt := range []struct {
		name string
		mod  func(*StopRule)
		want string
	}{
		{"no scalar", func(s *StopRule) { s.Scalar = "" }, `spec.stop.scalar: required: the scalar as results table names it`},
		{"pattern", func(s *StopRule) { s.Scalar = "**.channelUtilization:last" },
			`spec.stop.scalar: "**.channelUtilization:last" is a pattern: a stop rule names one scalar, "<module>.<name>"`},
		{"no module", func(s *StopRule) { s.Scalar = "channelUtilization:last" },
			`spec.stop.scalar: "channelUtilization:last" is not "<module>.<name>"`},
		{"two lines", func(s *StopRule) { s.Scalar = "A.b\nc" }, `spec.stop.scalar: "A.b\nc" is not a scalar name: one line of at most 1024 bytes`},
		{"confidence 1", func(s *StopRule) { s.Confidence = 1 }, `spec.stop.confidence: 1 is not a confidence level: a number between 0 and 1 exclusive`},
		{"confidence 95", func(s *StopRule) { s.Confidence = 95 }, `spec.stop.confidence: 95 is not a confidence level`},
		{"confidence NaN", func(s *StopRule) { s.Confidence = math.NaN() }, `spec.stop.confidence: NaN is not a confidence level`},
		{"no half-width", func(s *StopRule) { s.RelativeHalfWidth = 0 }, `spec.stop.relativeHalfWidth: 0 is not a relative half-width: a number in (0, 1], e.g. 0.05 for within 5% of the mean`},
		{"half-width in percent", func(s *StopRule) { s.RelativeHalfWidth = 5 }, `spec.stop.relativeHalfWidth: 5 is not a relative half-width`},
		{"one repetition", func(s *StopRule) { s.MinRepetitions = 1 }, `spec.stop.minRepetitions: 1 is not in 2..10000 (an interval needs two values)`},
		{"negative repetitions", func(s *StopRule) { s.MinRepetitions = -3 }, `spec.stop.minRepetitions: -3 is not in 2..10000`},
	} {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			c := valid()
			tt.mod(c.Spec.Stop)
			var ve *ValidationError
			if err := Validate(c); !errors.As(err, &ve) || len(ve.Errors) != 1 {
				t.Fatalf("want one problem, got %v", err)
			}
			if got := ve.Errors[0].Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
