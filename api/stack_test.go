package api

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestStackDefaultsAreValidAndIdempotent(t *testing.T) {
	s, err := ParseStack([]byte("apiVersion: simswarm.io/v1alpha1\nkind: Stack\nmetadata: {name: lab}\n"), "stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	SetStackDefaults(s)
	if err := ValidateStack(s); err != nil {
		t.Fatalf("defaulted stack invalid: %v", err)
	}
	if got := *s.Spec.Runner.CPUReservation; got != 0.95 {
		t.Errorf("runner cpuReservation = %v, want 0.95", got)
	}
	if s.Spec.EndpointMode != EndpointModeDNSRR || s.Spec.Images.Distcc != s.Spec.Images.Worker || s.Spec.Controller.Port != 8080 {
		t.Errorf("unexpected defaults: %+v", s.Spec)
	}
	again := *s
	SetStackDefaults(&again)
	if !reflect.DeepEqual(*s, again) {
		t.Error("SetStackDefaults is not idempotent")
	}
}

func TestStackExplicitZeroReserveKept(t *testing.T) {
	s, err := ParseStack([]byte("kind: Stack\napiVersion: simswarm.io/v1alpha1\nmetadata: {name: x}\nspec: {manager: {cpuReserve: 0, runRunners: false}}\n"), "s")
	if err != nil {
		t.Fatal(err)
	}
	SetStackDefaults(s)
	if *s.Spec.Manager.CPUReserve != 0 || *s.Spec.Manager.RunRunners {
		t.Errorf("explicit zero/false overwritten: %+v", s.Spec.Manager)
	}
}

func TestStackStrictDecode(t *testing.T) {
	_, err := ParseStack([]byte("kind: Stack\nspec: {runner: {cpuReservaton: 1}}\n"), "s.yaml")
	if err == nil || !strings.Contains(err.Error(), "cpuReservaton") {
		t.Fatalf("misspelled field not reported: %v", err)
	}
}

func TestValidateStackReportsEveryProblem(t *testing.T) {
	s := DefaultStack("Bad_Name")
	neg := -1.0
	s.Spec.Runner.CPUReservation = &neg
	many := int32(100)
	s.Spec.Runner.Prefetch = &many
	s.Spec.Controller.Port = 70000
	s.Spec.EndpointMode = "ipvs"
	s.Spec.Distcc.Allow = "everyone"
	err := ValidateStack(s)
	var ve *StackValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *StackValidationError, got %v", err)
	}
	var paths []string
	for _, fe := range ve.Errors {
		paths = append(paths, fe.Path)
	}
	want := []string{"metadata.name", "spec.controller.port", "spec.distcc.allow", "spec.endpointMode", "spec.runner.cpuReservation", "spec.runner.prefetch"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
}
