package aws

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Defaults of a Spec.
const (
	DefaultInstanceType  = "c5.xlarge"
	DefaultWorkers       = 2
	DefaultVolumeGiB     = 30
	DefaultIdleThreshold = 10.0 // percent CPU (maximum over a period)
	DefaultIdlePeriods   = 4
	DefaultIdlePeriod    = 15 * time.Minute
)

// Spec is the cluster Up converges to.
type Spec struct {
	// Name identifies the cluster; it is the value of TagCluster and part
	// of every resource name.
	Name string
	// Workers is the number of worker instances (the Auto Scaling group's
	// desired capacity). 0 is a manager-only swarm.
	Workers int
	// ManagerType and WorkerType are EC2 instance types.
	ManagerType string
	WorkerType  string
	// AMI is the image of every instance; empty means the value of the
	// public SSM parameter AMIParameter (default DefaultAMIParameter).
	AMI          string
	AMIParameter string
	// VolumeGiB is the root volume size (gp3) of every instance.
	VolumeGiB int32
	// SSHCIDR is the only source allowed to reach port 22 (e.g. the
	// caller's address as a /32, see CallerCIDR).
	SSHCIDR string
	// PublicKey, when set, is imported as the key pair (OpenSSH
	// authorized_keys format); otherwise AWS creates an ed25519 key pair
	// and Up returns its private key once.
	PublicKey string
	// SubnetIDs to launch into; empty means the default VPC's default
	// subnets.
	SubnetIDs []string
	// Idle is the idle shutdown alarm.
	Idle IdleSpec
}

// IdleSpec configures the idle alarm: when the manager's maximum CPU stays
// below Threshold percent for Periods consecutive periods of Period, the
// manager is stopped and the workers are scaled to 0.
type IdleSpec struct {
	Disabled  bool
	Threshold float64
	Periods   int32
	Period    time.Duration
}

// WithDefaults returns s with every empty field set to its default.
func (s Spec) WithDefaults() Spec {
	if s.WorkerType == "" {
		s.WorkerType = DefaultInstanceType
	}
	if s.ManagerType == "" {
		s.ManagerType = s.WorkerType
	}
	if s.AMI == "" && s.AMIParameter == "" {
		s.AMIParameter = DefaultAMIParameter
	}
	if s.VolumeGiB == 0 {
		s.VolumeGiB = DefaultVolumeGiB
	}
	if s.Idle.Threshold == 0 {
		s.Idle.Threshold = DefaultIdleThreshold
	}
	if s.Idle.Periods == 0 {
		s.Idle.Periods = DefaultIdlePeriods
	}
	if s.Idle.Period == 0 {
		s.Idle.Period = DefaultIdlePeriod
	}
	return s
}

// Validate reports every problem of a defaulted spec, naming the field.
func (s Spec) Validate() error {
	var errs []error
	if err := ValidateName(s.Name); err != nil {
		errs = append(errs, err)
	}
	if s.Workers < 0 || s.Workers > 1000 {
		errs = append(errs, fmt.Errorf("workers: %d is not between 0 and 1000", s.Workers))
	}
	for field, t := range map[string]string{"manager instance type": s.ManagerType, "worker instance type": s.WorkerType} {
		if !instanceTypeRE.MatchString(t) {
			errs = append(errs, fmt.Errorf("%s: %q does not look like an EC2 instance type (e.g. c5.xlarge)", field, t))
		}
	}
	if s.AMI != "" && !strings.HasPrefix(s.AMI, "ami-") {
		errs = append(errs, fmt.Errorf("ami: %q is not an image id (ami-...)", s.AMI))
	}
	if s.VolumeGiB < 8 || s.VolumeGiB > 16384 {
		errs = append(errs, fmt.Errorf("volume size: %d GiB is not between 8 and 16384", s.VolumeGiB))
	}
	if s.SSHCIDR == "" {
		errs = append(errs, errors.New("ssh cidr: empty (the address allowed to reach SSH)"))
	} else if p, err := netip.ParsePrefix(s.SSHCIDR); err != nil || !p.Addr().Is4() || p.Masked() != p {
		errs = append(errs, fmt.Errorf("ssh cidr: %q is not an IPv4 network such as 203.0.113.7/32", s.SSHCIDR))
	}
	if s.PublicKey != "" && !sshPublicKeyRE.MatchString(strings.TrimSpace(s.PublicKey)) {
		errs = append(errs, errors.New("public key: not an OpenSSH public key (ssh-ed25519/ssh-rsa/ecdsa-sha2-* AAAA...)"))
	}
	if !s.Idle.Disabled {
		if s.Idle.Threshold <= 0 || s.Idle.Threshold >= 100 {
			errs = append(errs, fmt.Errorf("idle threshold: %g%% is not between 0 and 100", s.Idle.Threshold))
		}
		if s.Idle.Periods < 1 || s.Idle.Period < time.Minute || s.Idle.Period%time.Minute != 0 ||
			time.Duration(s.Idle.Periods)*s.Idle.Period > 24*time.Hour {
			errs = append(errs, fmt.Errorf("idle period: %d x %v: want whole minutes, at most a day in total", s.Idle.Periods, s.Idle.Period))
		}
	}
	return errors.Join(errs...)
}
