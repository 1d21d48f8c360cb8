package stackspec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/api"
	"sigs.k8s.io/yaml"
)

// The compose file format version Compose writes; `docker stack deploy` of
// Docker 20.10 reads it.
const ComposeVersion = "3.8"

type composeFile struct {
	Version  string                    `json:"version"`
	Services map[string]composeService `json:"services"`
	Networks map[string]composeNetwork `json:"networks"`
	Volumes  map[string]composeVolume  `json:"volumes,omitempty"`
	Secrets  map[string]composeSecret  `json:"secrets,omitempty"`
}

type composeService struct {
	Image           string                           `json:"image"`
	Entrypoint      []string                         `json:"entrypoint,omitempty"`
	Command         []string                         `json:"command,omitempty"`
	Environment     map[string]string                `json:"environment,omitempty"`
	Labels          map[string]string                `json:"labels,omitempty"`
	Networks        map[string]composeServiceNetwork `json:"networks,omitempty"`
	Ports           []composePort                    `json:"ports,omitempty"`
	Volumes         []composeMount                   `json:"volumes,omitempty"`
	Secrets         []composeSecretRef               `json:"secrets,omitempty"`
	StopGracePeriod string                           `json:"stop_grace_period,omitempty"`
	Init            bool                             `json:"init,omitempty"`
	Deploy          composeDeploy                    `json:"deploy"`
}

type composeServiceNetwork struct {
	Aliases []string `json:"aliases,omitempty"`
}

type composePort struct {
	Target    uint32 `json:"target"`
	Published uint32 `json:"published"`
	Protocol  string `json:"protocol"`
	Mode      string `json:"mode"`
}

type composeMount struct {
	Type     string `json:"type"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only,omitempty"`
}

type composeSecretRef struct {
	Source string `json:"source"`
	Target string `json:"target"`
	UID    string `json:"uid"`
	GID    string `json:"gid"`
	Mode   uint32 `json:"mode"`
}

type composeDeploy struct {
	Mode          string                `json:"mode"`
	Replicas      *uint64               `json:"replicas,omitempty"`
	EndpointMode  string                `json:"endpoint_mode,omitempty"`
	Labels        map[string]string     `json:"labels,omitempty"`
	Placement     *composePlacement     `json:"placement,omitempty"`
	Resources     *composeResources     `json:"resources,omitempty"`
	RestartPolicy *composeRestartPolicy `json:"restart_policy,omitempty"`
}

type composePlacement struct {
	Constraints []string `json:"constraints,omitempty"`
}

type composeResources struct {
	Reservations composeReservation `json:"reservations"`
}

type composeReservation struct {
	CPUs string `json:"cpus"`
}

type composeRestartPolicy struct {
	Condition string `json:"condition"`
	Delay     string `json:"delay,omitempty"`
}

type composeNetwork struct {
	Driver     string            `json:"driver"`
	Attachable bool              `json:"attachable"`
	Labels     map[string]string `json:"labels,omitempty"`
}

type composeVolume struct {
	Labels map[string]string `json:"labels,omitempty"`
}

type composeSecret struct {
	External bool   `json:"external"`
	Name     string `json:"name"`
}

// Compose renders the same stack Build describes as a compose v3.8 file for
// `docker stack deploy -c - <stack name>`. Names inside the file are the
// components ("runner"); the stack namespace given to `docker stack deploy`
// prefixes them, so deploy it under the Stack's name to get the same object
// names the controller manages. The API token secret is external: create
// "<stack>_<apiTokenSecret>" first (simswarm stack deploy does).
func Compose(s *api.Stack, nodes []Node) ([]byte, error) {
	d, err := Build(s, nodes)
	if err != nil {
		return nil, err
	}
	prefix := s.Metadata.Name + "_"
	short := func(name string) string { return strings.TrimPrefix(name, prefix) }
	f := composeFile{
		Version:  ComposeVersion,
		Services: map[string]composeService{},
		Networks: map[string]composeNetwork{},
	}
	for _, n := range d.Networks {
		f.Networks[n.Component] = composeNetwork{Driver: n.Driver, Attachable: n.Attachable, Labels: n.Labels}
	}
	for _, svc := range d.Services {
		cs, err := composeServiceOf(svc.Spec, short)
		if err != nil {
			return nil, fmt.Errorf("compose %s: %w", svc.Name, err)
		}
		for _, ref := range svc.Spec.TaskTemplate.ContainerSpec.Secrets {
			if f.Secrets == nil {
				f.Secrets = map[string]composeSecret{}
			}
			f.Secrets[short(ref.SecretName)] = composeSecret{External: true, Name: ref.SecretName}
		}
		for _, m := range svc.Spec.TaskTemplate.ContainerSpec.Mounts {
			if m.Type != mount.TypeVolume {
				continue
			}
			if f.Volumes == nil {
				f.Volumes = map[string]composeVolume{}
			}
			var labels map[string]string
			if m.VolumeOptions != nil {
				labels = m.VolumeOptions.Labels
			}
			f.Volumes[short(m.Source)] = composeVolume{Labels: labels}
		}
		f.Services[svc.Component] = cs
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("marshal compose file: %w", err)
	}
	return append([]byte("# simswarm stack "+s.Metadata.Name+": deploy with `docker stack deploy -c FILE "+s.Metadata.Name+"`\n"), out...), nil
}

func composeServiceOf(spec swarm.ServiceSpec, short func(string) string) (composeService, error) {
	c := spec.TaskTemplate.ContainerSpec
	cs := composeService{
		Image:      c.Image,
		Entrypoint: c.Command,
		Command:    c.Args,
		Labels:     c.Labels,
		Deploy: composeDeploy{
			Labels:       spec.Labels,
			EndpointMode: string(spec.EndpointSpec.Mode),
		},
	}
	if len(c.Env) > 0 {
		cs.Environment = map[string]string{}
		for _, kv := range c.Env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return cs, fmt.Errorf("env entry %q has no '='", kv)
			}
			cs.Environment[k] = v
		}
	}
	if c.StopGracePeriod != nil {
		cs.StopGracePeriod = c.StopGracePeriod.String()
	}
	cs.Init = c.Init != nil && *c.Init
	for _, n := range spec.TaskTemplate.Networks {
		if cs.Networks == nil {
			cs.Networks = map[string]composeServiceNetwork{}
		}
		cs.Networks[short(n.Target)] = composeServiceNetwork{Aliases: n.Aliases}
	}
	for _, p := range spec.EndpointSpec.Ports {
		cs.Ports = append(cs.Ports, composePort{Target: p.TargetPort, Published: p.PublishedPort, Protocol: string(p.Protocol), Mode: string(p.PublishMode)})
	}
	for _, m := range c.Mounts {
		src := m.Source
		if m.Type == mount.TypeVolume {
			src = short(src)
		}
		cs.Volumes = append(cs.Volumes, composeMount{Type: string(m.Type), Source: src, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	for _, ref := range c.Secrets {
		cs.Secrets = append(cs.Secrets, composeSecretRef{
			Source: short(ref.SecretName), Target: ref.File.Name, UID: ref.File.UID, GID: ref.File.GID, Mode: uint32(ref.File.Mode),
		})
	}
	switch {
	case spec.Mode.Global != nil:
		cs.Deploy.Mode = "global"
	default:
		cs.Deploy.Mode = "replicated"
		cs.Deploy.Replicas = spec.Mode.Replicated.Replicas
	}
	if pl := spec.TaskTemplate.Placement; pl != nil && len(pl.Constraints) > 0 {
		cs.Deploy.Placement = &composePlacement{Constraints: pl.Constraints}
	}
	if r := spec.TaskTemplate.Resources; r != nil && r.Reservations != nil && r.Reservations.NanoCPUs > 0 {
		cs.Deploy.Resources = &composeResources{Reservations: composeReservation{
			CPUs: strconv.FormatFloat(float64(r.Reservations.NanoCPUs)/nanoPerCPU, 'f', -1, 64),
		}}
	}
	if rp := spec.TaskTemplate.RestartPolicy; rp != nil {
		crp := &composeRestartPolicy{Condition: string(rp.Condition)}
		if rp.Delay != nil {
			crp.Delay = rp.Delay.String()
		}
		cs.Deploy.RestartPolicy = crp
	}
	return cs, nil
}
