package aws

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// TestClusterDryRunMutatesNothing: Plan (--dry-run) lists every resource it would
// create, calls only Describe/Get/List operations, and leaves the
// emulator's state exactly as it was - on an empty account and on an
// existing cluster whose spec changed.
func TestClusterDryRunMutatesNothing(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	if inv := p.inventory(t, "dry"); inv != (inventory{}) {
		t.Fatalf("before: %+v", inv)
	}
	// moto loads the public AMI parameters on the first read; read once
	// so that the snapshot already holds them.
	if _, err := p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(DefaultAMIParameter)}); err != nil {
		t.Fatal(err)
	}
	before := motoState(t, e.motoURL)
	e.ops.take()
	plan, err := p.Plan(ctx, testSpec("dry"))
	if err != nil {
		t.Fatal(err)
	}
	if m := mutating(e.ops.take()); len(m) > 0 {
		t.Errorf("dry run called %v", m)
	}
	if inv := p.inventory(t, "dry"); inv != (inventory{}) {
		t.Errorf("after the dry run: %+v", inv)
	}
	if after := motoState(t, e.motoURL); !reflect.DeepEqual(before, after) {
		t.Error("the emulator's state changed during the dry run")
	}
	kinds := map[string]int{}
	for _, a := range plan.Actions {
		if a.Op != OpCreate {
			t.Errorf("on an empty account: %v", a)
		}
		kinds[a.Kind]++
	}
	want := map[string]int{"key pair": 1, "security group": 1, "ingress rule": 5, "SSM parameter": 1, "IAM role": 2, "IAM role policy": 2,
		"instance profile": 2, "launch template": 2, "instance": 1, "auto scaling group": 1, "scaling policy": 1, "alarm": 1}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("plan kinds %v, want %v", kinds, want)
	}

	// An existing cluster, one more worker asked for.
	if _, err := p.Up(ctx, testSpec("dry")); err != nil {
		t.Fatal(err)
	}
	before = motoState(t, e.motoURL)
	spec := testSpec("dry")
	spec.Workers = 3
	e.ops.take()
	plan, err = p.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if m := mutating(e.ops.take()); len(m) > 0 {
		t.Errorf("dry run called %v", m)
	}
	if plan.Changes() != 1 || !hasAction(plan.Actions, OpUpdate, "auto scaling group") {
		t.Errorf("plan for 3 workers: %s", plan)
	}
	if after := motoState(t, e.motoURL); !reflect.DeepEqual(before, after) {
		t.Error("the emulator's state changed during the dry run of a change")
	}
}

func hasAction(acts []Action, op, kind string) bool {
	for _, a := range acts {
		if a.Op == op && a.Kind == kind {
			return true
		}
	}
	return false
}
