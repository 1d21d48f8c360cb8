package aws

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// faultProxy stands in front of moto and answers the named query-protocol
// actions with an AWS error document, the way AWS itself answers them.
func faultProxy(t *testing.T, target string, faults map[string]string) string {
	t.Helper()
	u, err := url.Parse(target)
	must(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if doc, ok := faults[form.Get("Action")]; ok {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, doc)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// ec2Error is an EC2 error document (EC2's own XML shape).
func ec2Error(code, msg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error></Errors><RequestID>5d3f1c2e-0b7a-4c55-9a4e-8a1d2f6e7b90</RequestID></Response>`
}

// queryError is an error document of the other query services (STS, IAM, Auto Scaling).
func queryError(code, msg string) string {
	return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>` + msg + `</Message></Error><RequestId>8f0b9a1c-2d3e-4f50-8a6b-7c8d9e0f1a2b</RequestId></ErrorResponse>`
}

// oneLine checks what a user reads: one line, no SDK plumbing.
func checkOneLine(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not say %q", msg, want)
	}
	for _, noise := range []string{"\n", "operation error", "RequestID", "StatusCode", "https response error", "api error", testKeyID, testSecret} {
		if strings.Contains(msg, noise) {
			t.Errorf("error %q contains %q", msg, noise)
		}
	}
}

// TestClusterQuotaExceededIsOneClearLine: EC2's quota errors, as the API returns
// them, become one line with AWS's own explanation and what to do.
func TestClusterQuotaExceededIsOneClearLine(t *testing.T) {
	e := newEnv(t)
	for code, msg := range map[string]string{
		"InstanceLimitExceeded": "You have requested more instances (21) than your current instance limit of 20 allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
		"VcpuLimitExceeded":     "You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
	} {
		e.url = faultProxy(t, e.motoURL, map[string]string{"RunInstances": ec2Error(code, msg)})
		p := e.provider(t, "us-east-1")
		_, err := p.Up(context.Background(), testSpec("quota"))
		checkOneLine(t, err, "launch the manager: AWS quota exceeded ("+code+"): "+msg+" - ask for more in the Service Quotas console")
	}
}

// TestClusterInstanceTypeNotOfferedIsOneClearLine: a type the region does not
// have fails before anything is created, naming type and region.
func TestClusterInstanceTypeNotOfferedIsOneClearLine(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "eu-central-1")
	spec := testSpec("nope")
	spec.WorkerType = "p5.48xlarge" // offered in us-east-1, not in eu-central-1
	e.ops.take()
	_, err := p.Up(context.Background(), spec)
	checkOneLine(t, err, "check instance type: instance type p5.48xlarge is not offered in region eu-central-1")
	if m := mutating(e.ops.take()); len(m) > 0 {
		t.Errorf("a failed check still called %v", m)
	}
	spec.WorkerType = "c5.nonsense"
	_, err = p.Plan(context.Background(), spec)
	checkOneLine(t, err, "instance type c5.nonsense is not offered in region eu-central-1")
}

// TestClusterNoCredentialsIsOneClearLine: with nothing in the default chain
// every command says so in one line; an unknown profile is named.
func TestClusterNoCredentialsIsOneClearLine(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	p, err := NewProvider(ctx, Options{Region: "us-east-1", EndpointURL: e.url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Plan(ctx, testSpec("nocreds"))
	checkOneLine(t, err, "check AWS credentials: "+ErrNoCredentials.Error())
	_, err = p.Status(ctx, "nocreds")
	checkOneLine(t, err, ErrNoCredentials.Error())
	_, err = p.Destroy(ctx, "nocreds")
	checkOneLine(t, err, ErrNoCredentials.Error())

	_, err = NewProvider(ctx, Options{Region: "us-east-1", Profile: "lab"})
	checkOneLine(t, err, `AWS profile "lab" not found`)
}

// TestClusterRejectedCredentialsNeverShowTheKey: AWS's answer to a bad signature
// quotes the request's credential scope; the user sees the code only.
func TestClusterRejectedCredentialsNeverShowTheKey(t *testing.T) {
	e := newEnv(t)
	msg := "The request signature we calculated does not match the signature you provided. The Canonical String for this request should have been 'POST / Credential=" +
		testKeyID + "/20260101/us-east-1/sts/aws4_request' secret " + testSecret
	e.url = faultProxy(t, e.motoURL, map[string]string{"GetCallerIdentity": queryError("SignatureDoesNotMatch", msg)})
	p := e.provider(t, "us-east-1")
	_, err := p.Up(context.Background(), testSpec("bad"))
	checkOneLine(t, err, "check AWS credentials: AWS rejected the credentials (SignatureDoesNotMatch)")
	// Whatever the code, a key-shaped string in a message is cut out.
	if got := redact("x " + testKeyID + " y " + testSecret + " z"); strings.Contains(got, testKeyID) || strings.Contains(got, testSecret) {
		t.Errorf("redact left a key: %q", got)
	}
}
