package stackspec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// projection is the part of a service spec simswarm decides. Fields the
// daemon fills in or rewrites (image digest, network IDs, default
// isolation, update config) are left out or normalised, so the projection
// of an observed spec equals the projection of the spec that created it.
type projection struct {
	Name            string
	Labels          map[string]string
	Image           string
	Command, Args   []string
	Env             []string
	Dir, User       string
	ContainerLabels map[string]string
	Mounts          []string
	Secrets         []string
	StopGrace       time.Duration
	Init            bool
	ReserveCPU      int64
	ReserveMem      int64
	LimitCPU        int64
	LimitMem        int64
	Restart         string
	RestartDelay    time.Duration
	Constraints     []string
	Networks        []string
	Global          bool
	Replicas        uint64
	EndpointMode    string
	Ports           []string
}

// Fingerprint hashes the fields of spec that simswarm sets. netNames maps
// network IDs (as the daemon stores them) back to names; nil for a spec
// that names its networks. The spec-hash label is ignored, so
// Fingerprint(observed) == Fingerprint(intended) unless someone changed a
// field simswarm owns.
func Fingerprint(spec swarm.ServiceSpec, netNames map[string]string) string {
	p := projection{Name: spec.Name, Labels: withoutHash(spec.Labels)}
	if c := spec.TaskTemplate.ContainerSpec; c != nil {
		p.Image = StripDigest(c.Image)
		p.Command, p.Args, p.Env = c.Command, c.Args, c.Env
		p.Dir, p.User = c.Dir, c.User
		p.ContainerLabels = c.Labels
		for _, m := range c.Mounts {
			p.Mounts = append(p.Mounts, strings.Join([]string{string(m.Type), m.Source, m.Target, boolStr(m.ReadOnly)}, "|"))
		}
		for _, s := range c.Secrets {
			target := ""
			if s.File != nil {
				target = s.File.Name
			}
			p.Secrets = append(p.Secrets, s.SecretName+"|"+target)
		}
		if c.StopGracePeriod != nil {
			p.StopGrace = *c.StopGracePeriod
		}
		p.Init = c.Init != nil && *c.Init
	}
	if r := spec.TaskTemplate.Resources; r != nil {
		if r.Reservations != nil {
			p.ReserveCPU, p.ReserveMem = r.Reservations.NanoCPUs, r.Reservations.MemoryBytes
		}
		if r.Limits != nil {
			p.LimitCPU, p.LimitMem = r.Limits.NanoCPUs, r.Limits.MemoryBytes
		}
	}
	if rp := spec.TaskTemplate.RestartPolicy; rp != nil {
		p.Restart = string(rp.Condition)
		if rp.Delay != nil {
			p.RestartDelay = *rp.Delay
		}
	}
	if pl := spec.TaskTemplate.Placement; pl != nil {
		p.Constraints = pl.Constraints
	}
	for _, n := range spec.TaskTemplate.Networks {
		name := n.Target
		if nn, ok := netNames[n.Target]; ok {
			name = nn
		}
		p.Networks = append(p.Networks, name+"|"+strings.Join(n.Aliases, ","))
	}
	slices.Sort(p.Networks)
	switch {
	case spec.Mode.Global != nil:
		p.Global = true
	case spec.Mode.Replicated != nil && spec.Mode.Replicated.Replicas != nil:
		p.Replicas = *spec.Mode.Replicated.Replicas
	}
	if e := spec.EndpointSpec; e != nil {
		p.EndpointMode = string(e.Mode)
		for _, pc := range e.Ports {
			p.Ports = append(p.Ports, strings.Join([]string{string(pc.Protocol), u32(pc.TargetPort), u32(pc.PublishedPort), string(pc.PublishMode)}, "|"))
		}
	}
	return digest(p)
}

// NetworkFingerprint hashes what simswarm sets on a network.
func NetworkFingerprint(driver string, attachable bool, labels map[string]string) string {
	return digest(struct {
		Driver     string
		Attachable bool
		Labels     map[string]string
	}{driver, attachable, withoutHash(labels)})
}

// StripDigest removes the "@sha256:..." the daemon appends to images it
// resolved through a registry.
func StripDigest(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i]
	}
	return image
}

func withoutHash(labels map[string]string) map[string]string {
	out := maps.Clone(labels)
	delete(out, LabelSpecHash)
	if len(out) == 0 {
		return nil
	}
	return out
}

// digest is a short stable hash of v's JSON (maps marshal with sorted keys).
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("stackspec: marshal projection: " + err.Error()) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func boolStr(b bool) string {
	if b {
		return "ro"
	}
	return "rw"
}

func u32(v uint32) string {
	b, _ := json.Marshal(v)
	return string(b)
}
