package stackspec

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
	"github.com/simswarm/simswarm/api"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func node(id, role string, cpus float64, mods ...func(*Node)) Node {
	n := Node{ID: id, Hostname: id, Role: role, Availability: "active", State: "ready", NanoCPUs: cpuNanos(cpus)}
	for _, m := range mods {
		m(&n)
	}
	return n
}

func drained(n *Node) { n.Availability = "drain" }
func down(n *Node)    { n.State = "down" }
func noRunner(n *Node) {
	n.Labels = map[string]string{api.DefaultRunnerExcludeLabel: "false"}
}

type goldenCase struct {
	name  string
	stack func() *api.Stack
	nodes []Node
	// wantSlots is asserted besides the golden file, so a careless
	// -update cannot bless a wrong slot count: node ID -> runner slots.
	wantSlots map[string]int
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{
			name:      "single-manager",
			stack:     func() *api.Stack { return api.DefaultStack("simswarm") },
			nodes:     []Node{node("m1", RoleManager, 2)},
			wantSlots: map[string]int{"m1": 1}, // (2 - 1 reserve) / 0.95
		},
		{
			name: "cluster-visualizer",
			stack: func() *api.Stack {
				s := api.DefaultStack("lab")
				s.Spec.Visualizer.Enabled = true
				s.Spec.Images.Worker = "registry.example/omnetpp-worker:6.1"
				s.Spec.Images.Distcc = ""
				api.SetStackDefaults(s)
				return s
			},
			nodes: []Node{
				node("m1", RoleManager, 4), // 3 left after reserve: 3
				node("w1", RoleWorker, 8),  // 8
				node("w2", RoleWorker, 16), // 16
				node("w3", RoleWorker, 2, drained),
				node("w4", RoleWorker, 2, down),
				node("w5", RoleWorker, 4, noRunner),
				node("w6", RoleWorker, 0.5), // too small for one runner
			},
			// Nodes the runner placement admits get an entry, those
			// that cannot take tasks now 0; w5 (excluded) none.
			wantSlots: map[string]int{"m1": 3, "w1": 8, "w2": 16, "w3": 0, "w4": 0, "w6": 0},
		},
		{
			name: "workers-only-capped",
			stack: func() *api.Stack {
				s := api.DefaultStack("prod")
				f := false
				s.Spec.Manager.RunRunners = &f
				s.Spec.Runner.MaxReplicas = 10
				none := int32(0)
				s.Spec.Runner.Prefetch = &none
				half := 0.5
				s.Spec.Runner.CPUReservation = &half
				s.Spec.Controller.Port = 9443
				return s
			},
			nodes: []Node{node("m1", RoleManager, 64), node("w1", RoleWorker, 3), node("w2", RoleWorker, 3)},
			// 6+6 capped at 10, in node ID order; the manager runs none.
			wantSlots: map[string]int{"w1": 6, "w2": 4},
		},
		{
			name:      "no-nodes",
			stack:     func() *api.Stack { return api.DefaultStack("empty") },
			nodes:     nil,
			wantSlots: map[string]int{},
		},
	}
}

func TestBuildGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Build(tc.stack(), tc.nodes)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", tc.name+".golden"), append(got, '\n'))
			if !maps.Equal(d.RunnerSlots, tc.wantSlots) {
				t.Errorf("runner slots = %v, want %v", d.RunnerSlots, tc.wantSlots)
			}
			checkInvariants(t, tc.stack(), d)
		})
	}
}

func TestComposeGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compose(tc.stack(), tc.nodes)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", tc.name+".compose.golden"), got)
		})
	}
}

// checkInvariants asserts what every desired stack must satisfy, whatever
// the golden file says.
func checkInvariants(t *testing.T, s *api.Stack, d *Desired) {
	t.Helper()
	published := 0
	for _, svc := range d.Services {
		if svc.Spec.Labels[LabelStack] != s.Metadata.Name || svc.Spec.Labels[LabelSpecHash] != svc.Hash || svc.Hash == "" {
			t.Errorf("%s: labels %v, hash %q", svc.Name, svc.Spec.Labels, svc.Hash)
		}
		if Fingerprint(svc.Spec, nil) != svc.Hash {
			t.Errorf("%s: hash label is not the fingerprint of the spec", svc.Name)
		}
		if !strings.HasPrefix(svc.Name, s.Metadata.Name+"_") {
			t.Errorf("%s: not prefixed with the stack name", svc.Name)
		}
		if svc.Spec.EndpointSpec.Mode != swarm.ResolutionModeDNSRR {
			t.Errorf("%s: endpoint mode %q", svc.Name, svc.Spec.EndpointSpec.Mode)
		}
		for _, p := range svc.Spec.EndpointSpec.Ports {
			published++
			if svc.Component != Controller || p.PublishMode != swarm.PortConfigPublishModeHost || p.PublishedPort != uint32(s.Spec.Controller.Port) {
				t.Errorf("%s publishes %+v: only the controller's API port may be published, in host mode", svc.Name, p)
			}
			if pl := svc.Spec.TaskTemplate.Placement; pl == nil || pl.Constraints[0] != "node.role==manager" {
				t.Errorf("%s: published port not pinned to a manager", svc.Name)
			}
		}
	}
	if published != 1 {
		t.Errorf("%d published ports, want exactly 1", published)
	}
	// One runner per node (global), which reads its node's slot count:
	// Swarm fills in the node's ID.
	rn := find(t, d, Runner)
	if rn.Spec.Mode.Global == nil || !slices.Contains(rn.Spec.TaskTemplate.ContainerSpec.Env, NodeIDEnv+"={{.Node.ID}}") {
		t.Errorf("runner must be global and told its node's ID: %+v %v", rn.Spec.Mode, rn.Spec.TaskTemplate.ContainerSpec.Env)
	}
	if dc := find(t, d, Distcc); dc.Spec.Mode.Global == nil || len(dc.Spec.TaskTemplate.Networks) != 1 || dc.Spec.TaskTemplate.Networks[0].Target != ObjectName(s, Buildnet) {
		t.Errorf("distcc must be global on buildnet only: %+v %+v", dc.Spec.Mode, dc.Spec.TaskTemplate.Networks)
	}
	for _, n := range d.Networks {
		if n.Driver != "overlay" || !n.Attachable || n.Labels[LabelStack] != s.Metadata.Name || n.Labels[LabelSpecHash] != n.Hash {
			t.Errorf("network %+v", n)
		}
	}
}

func find(t *testing.T, d *Desired, comp string) Service {
	t.Helper()
	for _, s := range d.Services {
		if s.Component == comp {
			return s
		}
	}
	t.Fatalf("no %s service", comp)
	return Service{}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./stackspec -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test ./stackspec -update rewrites it after review):\n%s", path, got)
	}
}
