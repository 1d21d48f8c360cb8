package aws

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	mototest "github.com/simswarm/simswarm/test/moto"
	"github.com/simswarm/simswarm/test/testproc"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	os.Exit(testproc.Wrap(func() int { return mototest.Main(m) }))
}

// Test credentials, shaped like real ones so that a leak would be caught
// by the redaction patterns and by the searches of the tests.
const (
	testKeyID  = "AKIAIOSFODNN7SIMSWRM"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSIMSWARMKY"
)

// opRecorder remembers every operation the clients called.
type opRecorder struct {
	mu  sync.Mutex
	ops []string // "EC2.RunInstances"
}

func (r *opRecorder) middleware(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("simswarmRecordOp",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.mu.Lock()
			r.ops = append(r.ops, awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx))
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (r *opRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ops
	r.ops = nil
	return out
}

// mutating lists the operations that are not reads.
func mutating(ops []string) []string {
	var out []string
	for _, op := range ops {
		_, name, _ := strings.Cut(op, ".")
		if !strings.HasPrefix(name, "Describe") && !strings.HasPrefix(name, "Get") && !strings.HasPrefix(name, "List") {
			out = append(out, op)
		}
	}
	return out
}

type testEnv struct {
	// url is where providers send requests: moto, or a fault proxy in
	// front of it; motoURL is always moto itself.
	url, motoURL string
	ops          *opRecorder
	logs         *observer.ObservedLogs
	logger       *zap.Logger
}

// newEnv resets moto and returns what tests share.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	u := mototest.Shared(t).URL
	return &testEnv{url: u, motoURL: u, ops: &opRecorder{}, logs: logs, logger: zap.New(core)}
}

// provider talks to moto in region.
func (e *testEnv) provider(t *testing.T, region string) *Provider {
	t.Helper()
	p, err := NewProvider(context.Background(), Options{
		Region: region, EndpointURL: e.url,
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		APIOptions:   []func(*middleware.Stack) error{e.ops.middleware},
		Logger:       e.logger,
		PollInterval: 10 * time.Millisecond, WaitTimeout: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testSpec(name string) Spec {
	return Spec{Name: name, Workers: 2, WorkerType: "t3.small", ManagerType: "t3.medium", SSHCIDR: "203.0.113.7/32"}
}
