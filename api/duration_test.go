package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDurationsNeedAUnitAndArePositive: every duration of a manifest is a
// string with a unit. A bare number (YAML or JSON) and a string without a
// unit are refused alike, naming the field and suggesting the unit; 0s is
// refused instead of silently meaning the default; leaving the field out
// gives the default.
func TestDurationsNeedAUnitAndArePositive(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"5", `spec.timeout: 5 has no unit: write "5s"`},
		{`"5"`, `spec.timeout: "5" has no unit: write "5s"`},
		{"1.5", `spec.timeout: 1.5 has no unit: write "1.5s"`},
		{`"0"`, `spec.timeout: "0" has no unit: write "0s"`},
		{"0", `spec.timeout: 0 has no unit: write "0s"`},
		{"0s", `spec.timeout: 0s is not a positive duration (leave the field out for its default)`},
		{"5 min", `spec.timeout: "5 min" is not a duration (use e.g. 90s, 10m, 1h)`},
	} {
		doc := strings.Replace(validDoc, "timeout: 90s", "timeout: "+tc.value, 1)
		_, err := ParseManifests([]byte(doc), "c.yaml")
		var de *DecodeError
		if !errors.As(err, &de) || len(de.Errors) != 1 || de.Errors[0].Path != "spec.timeout" ||
			!strings.Contains(err.Error(), tc.want) {
			t.Errorf("timeout: %s: %v\nwant %s", tc.value, err, tc.want)
		}
	}
	// Negative ones are refused by validation, with the field.
	neg, err := ParseManifests([]byte(strings.Replace(validDoc, "timeout: 90s", "timeout: -5m", 1)), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	SetDefaults(neg[0])
	if err := Validate(neg[0]); err == nil || !strings.Contains(err.Error(), "spec.timeout: -5m0s must be positive") {
		t.Errorf("timeout: -5m: %v", err)
	}
	// The same rule in JSON (the API's body).
	js := `{"apiVersion":"simswarm.io/v1alpha1","kind":"Campaign","metadata":{"name":"j"},
	"spec":{"source":{"path":"."},"simulation":{"program":["opp_run"]},"timeout":600}}`
	if _, err := ParseManifests([]byte(js), "body"); err == nil || !strings.Contains(err.Error(), `spec.timeout: 600 has no unit: write "600s"`) {
		t.Errorf("JSON timeout 600: %v", err)
	}

	// Left out: the default, and a campaign without one travels (the CLI
	// sends campaigns before defaults) without becoming "0s".
	doc := strings.Replace(validDoc, "  timeout: 90s\n", "", 1)
	cs, err := ParseManifests([]byte(doc), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cs[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "timeout") {
		t.Errorf("an unset timeout is encoded: %s", b)
	}
	again, err := ParseManifests(b, "body")
	if err != nil {
		t.Fatalf("re-decoding an encoded campaign: %v", err)
	}
	SetDefaults(again[0])
	if again[0].Spec.Timeout.Duration != DefaultTimeout {
		t.Errorf("default timeout = %v", again[0].Spec.Timeout)
	}
}

// TestEveryDurationFieldIsADuration: the manifest kinds have no field of
// a raw time.Duration (JSON would read it as nanoseconds, outside the rule
// above); every duration is an api.Duration.
func TestEveryDurationFieldIsADuration(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty == reflect.TypeOf(time.Duration(0)) {
			t.Errorf("%s is a time.Duration, not an api.Duration", path)
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty == reflect.TypeOf(Duration{}) || ty == reflect.TypeOf(time.Time{}) {
			return
		}
		seen[ty] = true
		for i := 0; i < ty.NumField(); i++ {
			walk(ty.Field(i).Type, path+"."+ty.Field(i).Name)
		}
	}
	walk(reflect.TypeOf(Campaign{}), "Campaign")
	walk(reflect.TypeOf(Stack{}), "Stack")
	if !seen[reflect.TypeOf(StackSpec{})] || !seen[reflect.TypeOf(CampaignSpec{})] {
		t.Fatal("the walk missed the specs")
	}
}
