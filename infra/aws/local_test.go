package aws

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClusterCallerCIDR(t *testing.T) {
	answer := "203.0.113.7\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, answer) }))
	defer srv.Close()
	got, err := CallerCIDR(context.Background(), srv.Client(), srv.URL)
	if err != nil || got != "203.0.113.7/32" {
		t.Fatalf("CallerCIDR = %q, %v", got, err)
	}
	for _, bad := range []string{"<html>oops</html>", "2001:db8::1", ""} {
		answer = bad
		if got, err := CallerCIDR(context.Background(), srv.Client(), srv.URL); err == nil || !strings.Contains(err.Error(), "--ssh-cidr") {
			t.Errorf("answer %q: %q, %v", bad, got, err)
		}
	}
}

func TestClusterParseHostKeys(t *testing.T) {
	console := `[   12.3] cloud-init[1234]: Cloud-init v. 22.2.2 running 'modules:final'
ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----
ec2: 256 SHA256:abc root@ip-172-31-5-9 (ECDSA)
ec2: -----END SSH HOST KEY FINGERPRINTS-----
-----BEGIN SSH HOST KEY KEYS-----
ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE= root@ip-172-31-5-9
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuTNjS5UCbtd5ae1RcLzwy8oCg6JXdTaGnIZ3dzpZdM root@ip-172-31-5-9
-----END SSH HOST KEY KEYS-----
ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC outside the markers
`
	got := ParseHostKeys(console)
	want := []string{"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE=",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuTNjS5UCbtd5ae1RcLzwy8oCg6JXdTaGnIZ3dzpZdM"}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseHostKeys = %q", got)
	}
	path := filepath.Join(t.TempDir(), "k", "known_hosts")
	if err := WriteKnownHosts(path, HostKeyAlias("lab"), got); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "simswarm-lab-manager ecdsa-sha2-nistp256 ") || strings.Count(string(b), "\n") != 2 {
		t.Errorf("known_hosts:\n%s", b)
	}
}

// TestClusterHostKeysFromMoto: moto's console output is a fixed kernel log with
// no host keys; that is reported as ErrNoHostKeys, not as a failure.
func TestClusterHostKeysFromMoto(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	res, err := p.Up(context.Background(), testSpec("hk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.HostKeys(context.Background(), res.ManagerID); err != ErrNoHostKeys {
		t.Fatalf("HostKeys: %v", err)
	}
}

func TestClusterSpecValidationNamesTheField(t *testing.T) {
	bad := Spec{Name: "Bad_Name", Workers: -1, WorkerType: "huge", SSHCIDR: "10.0.0.1/8", AMI: "img-1", PublicKey: "hello",
		Idle: IdleSpec{Threshold: 150}}.WithDefaults()
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`cluster name "Bad_Name"`, "workers: -1", `worker instance type: "huge"`, `ssh cidr: "10.0.0.1/8"`,
		`ami: "img-1"`, "public key:", "idle threshold: 150%"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	if err := testSpec("ok").WithDefaults().Validate(); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}

func TestClusterEstimate(t *testing.T) {
	e := EstimateSpec(Spec{ManagerType: "c5.xlarge", WorkerType: "c5.4xlarge", Workers: 3})
	if want := 0.17 + 3*0.68; e.PerHourUSD < want-1e-9 || e.PerHourUSD > want+1e-9 || len(e.Unknown) != 0 {
		t.Errorf("estimate %+v, want %g", e, want)
	}
	e = EstimateSpec(Spec{ManagerType: "c5.xlarge", WorkerType: "x9.mega", Workers: 2})
	if !strings.Contains(e.String(), "no price known for [x9.mega]") {
		t.Errorf("estimate text %q", e.String())
	}
}
