package aws

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// TestClusterHaltResumeAndStatus: halt stops the manager and takes the workers
// to 0, resume brings back both and re-arms the alarm, each is a no-op
// when repeated; status reports instances, readiness, alarm and cost.
func TestClusterHaltResumeAndStatus(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	if _, err := p.Status(ctx, "hr"); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.Status(ctx, "hr"); st.Exists {
		t.Fatalf("status before up: %+v", st)
	}
	res, err := p.Up(ctx, testSpec("hr"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(ctx, "hr")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Exists || st.Manager == nil || st.Manager.ID != res.ManagerID || st.Manager.State != "running" || len(st.Workers) != 2 ||
		st.DesiredWorkers != 2 || st.SpecWorkers != 2 || st.SwarmInitialized || st.Alarm == "" {
		t.Fatalf("status after up: %+v", st)
	}
	// t3.medium + 2 x t3.small at the table's prices.
	if want := 0.0416 + 2*0.0208; st.HourlyUSD < want-1e-9 || st.HourlyUSD > want+1e-9 {
		t.Errorf("hourly %g, want %g", st.HourlyUSD, want)
	}
	// The manager's boot script overwrites the placeholder with the token.
	if _, err := p.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(names{"hr"}.tokenParameter()),
		Type: ssmtypes.ParameterTypeSecureString, Value: aws.String("SWMTKN-1-test"), Overwrite: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	// Later is more expensive: the clock is the provider's. Two hours after
	// the last instance started (the workers' group may launch a second
	// after the manager), every instance has run at least two hours.
	last := st.Manager.LaunchTime
	for _, w := range st.Workers {
		if w.LaunchTime.After(last) {
			last = w.LaunchTime
		}
	}
	p.now = func() time.Time { return last.Add(2 * time.Hour) }
	if st, err = p.Status(ctx, "hr"); err != nil || !st.SwarmInitialized || st.SoFarUSD < 2*st.HourlyUSD-1e-9 {
		t.Fatalf("status with the token stored, 2h later: %+v %v", st, err)
	}
	p.now = time.Now

	acts, err := p.Halt(ctx, "hr")
	if err != nil || len(acts) != 2 {
		t.Fatalf("halt: %v %v", acts, err)
	}
	st, _ = p.Status(ctx, "hr")
	if st.Manager == nil || (st.Manager.State != "stopped" && st.Manager.State != "stopping") || st.DesiredWorkers != 0 || st.SpecWorkers != 2 {
		t.Fatalf("status after halt: %+v", st)
	}
	if acts, err := p.Halt(ctx, "hr"); err != nil || len(acts) != 0 {
		t.Fatalf("second halt: %v %v", acts, err)
	}

	// The alarm fired while halted; resume must re-arm it.
	if _, err := p.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(names{"hr"}.alarm()),
		StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("idle")}); err != nil {
		t.Fatal(err)
	}
	acts, err = p.Resume(ctx, "hr")
	if err != nil || len(acts) != 2 {
		t.Fatalf("resume: %v %v", acts, err)
	}
	st, _ = p.Status(ctx, "hr")
	if st.Manager == nil || st.Manager.State != "running" || st.DesiredWorkers != 2 || st.Alarm != "OK" {
		t.Fatalf("status after resume: %+v", st)
	}
	if acts, err := p.Resume(ctx, "hr"); err != nil || len(acts) != 0 {
		t.Fatalf("second resume: %v %v", acts, err)
	}

	if _, err := p.Halt(ctx, "never"); !errors.Is(err, ErrNoCluster) {
		t.Errorf("halt of a cluster that does not exist: %v", err)
	}
	if _, err := p.Resume(ctx, "never"); !errors.Is(err, ErrNoCluster) {
		t.Errorf("resume of a cluster that does not exist: %v", err)
	}
}

// TestClusterUpStartsAHaltedCluster: up converges a halted cluster back to
// running instead of launching a second manager.
func TestClusterUpStartsAHaltedCluster(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	first, err := p.Up(ctx, testSpec("again"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Halt(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(ctx, testSpec("again"))
	if err != nil {
		t.Fatal(err)
	}
	if !hasAction(res.Actions, OpStart, "instance") || res.ManagerID != first.ManagerID {
		t.Errorf("up of a halted cluster:\n%s", res.Plan)
	}
	if got, want := p.inventory(t, "again"), fullCluster(2); got != want {
		t.Errorf("inventory %+v, want %+v", got, want)
	}
}
