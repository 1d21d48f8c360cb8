package api

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// stackNameRE keeps stack names usable as prefixes of service, network,
// volume and secret names (and as DNS labels inside the overlay networks).
var stackNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// ValidateStack checks a defaulted Stack. It returns nil or a
// *StackValidationError listing every problem with its field path.
func ValidateStack(s *Stack) error {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Detail: fmt.Sprintf(format, args...)})
	}
	if s.APIVersion != APIVersion {
		add("apiVersion", "must be %q, not %q", APIVersion, s.APIVersion)
	}
	if s.Kind != KindStack {
		add("kind", "must be %q, not %q", KindStack, s.Kind)
	}
	if !stackNameRE.MatchString(s.Metadata.Name) {
		add("metadata.name", "%q must be 1-32 characters of a-z, 0-9 and '-', starting and ending with a letter or digit", s.Metadata.Name)
	}
	sp := &s.Spec
	for path, img := range map[string]string{
		"spec.images.controller": sp.Images.Controller,
		"spec.images.worker":     sp.Images.Worker,
		"spec.images.distcc":     sp.Images.Distcc,
		"spec.images.redis":      sp.Images.Redis,
		"spec.images.mongo":      sp.Images.Mongo,
		"spec.visualizer.image":  sp.Visualizer.Image,
	} {
		if img == "" || strings.ContainsAny(img, " \t\n") {
			add(path, "%q is not an image reference", img)
		}
	}
	if r := sp.Runner.CPUReservation; r == nil || *r <= 0 || *r > 1024 {
		add("spec.runner.cpuReservation", "must be a number of CPUs in (0, 1024]")
	}
	if sp.Runner.MaxReplicas < 0 {
		add("spec.runner.maxReplicas", "must not be negative")
	}
	if p := sp.Runner.Prefetch; p != nil && (*p < 0 || *p > 64) {
		add("spec.runner.prefetch", "%d is not a number of tasks in [0, 64]", *p)
	}
	if r := sp.Manager.CPUReserve; r == nil || *r < 0 || *r > 1024 {
		add("spec.manager.cpuReserve", "must be a number of CPUs in [0, 1024]")
	}
	if p := sp.Controller.Port; p < 1 || p > 65535 {
		add("spec.controller.port", "%d is not a TCP port", p)
	}
	if p := sp.Distcc.Port; p < 1 || p > 65535 {
		add("spec.distcc.port", "%d is not a TCP port", p)
	}
	if !strings.HasPrefix(sp.Controller.DockerSocket, "/") {
		add("spec.controller.dockerSocket", "%q is not an absolute path", sp.Controller.DockerSocket)
	}
	if _, err := netip.ParsePrefix(sp.Distcc.Allow); err != nil {
		add("spec.distcc.allow", "%q is not a CIDR network", sp.Distcc.Allow)
	}
	if !stackNameRE.MatchString(sp.Controller.APITokenSecret) {
		add("spec.controller.apiTokenSecret", "%q is not a valid secret name", sp.Controller.APITokenSecret)
	}
	if !stackNameRE.MatchString(sp.Volumes.Mongo) {
		add("spec.volumes.mongo", "%q is not a valid volume name", sp.Volumes.Mongo)
	}
	if sp.EndpointMode != EndpointModeDNSRR && sp.EndpointMode != EndpointModeVIP {
		add("spec.endpointMode", "must be %q or %q, not %q", EndpointModeDNSRR, EndpointModeVIP, sp.EndpointMode)
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Path, b.Path) })
	return &StackValidationError{Name: s.Metadata.Name, Errors: errs}
}

// StackValidationError lists every problem found in a Stack manifest, as
// FieldErrors like a Campaign's ValidationError.
type StackValidationError struct {
	// Name is the stack's metadata.name (may be empty or invalid).
	Name   string
	Errors []FieldError
}

// Error gives a header line and one "path: detail" line per problem.
func (e *StackValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %q is invalid:", e.Name)
	for _, fe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}
