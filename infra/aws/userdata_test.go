package aws

import (
	"context"
	"encoding/base64"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", path, got)
	}
}

// TestClusterUserDataGolden: the manager initialises the swarm and stores the
// worker token in the parameter; workers wait for a real token there and
// join the manager's address. Neither script holds a token.
func TestClusterUserDataGolden(t *testing.T) {
	d := UserData{Cluster: "lab", Region: "eu-central-1", TokenParameter: names{"lab"}.tokenParameter(), SSHUser: DefaultSSHUser}
	m, err := RenderManager(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "manager.sh.golden", m)
	d.ManagerAddr = "172.31.5.9"
	w, err := RenderWorker(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "worker.sh.golden", w)
	for _, s := range []string{m, w} {
		if strings.Contains(s, "SWMTKN-1") {
			t.Error("a join token in user-data")
		}
		// The scripts parse as bash.
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
	for _, want := range []string{"docker swarm init --advertise-addr", "docker swarm join-token -q worker >\"$F\"",
		"aws ssm put-parameter --region eu-central-1 --name /simswarm/lab/worker-join-token --type SecureString --overwrite --value \"file://$F\" >/dev/null"} {
		if !strings.Contains(m, want) {
			t.Errorf("manager user-data lacks %q", want)
		}
	}
	for _, want := range []string{"--name /simswarm/lab/worker-join-token --with-decryption", "SWMTKN-*) break", "docker swarm join --token \"$TOKEN\" 172.31.5.9:2377 >/dev/null"} {
		if !strings.Contains(w, want) {
			t.Errorf("worker user-data lacks %q", want)
		}
	}
	if _, err := RenderWorker(UserData{Cluster: "lab", Region: "eu-central-1", TokenParameter: "/x", SSHUser: "u", ManagerAddr: "1.2.3.4; rm -rf /"}); err == nil {
		t.Error("a manager address that is not an IP was rendered")
	}
	if _, err := RenderManager(UserData{Cluster: "lab", Region: "eu-central-1 $(reboot)", TokenParameter: "/x", SSHUser: "u"}); err == nil {
		t.Error("a region with shell syntax was rendered")
	}
}

// TestClusterLaunchTemplatesCarryTheUserData: what Up puts into the launch
// templates is exactly the rendered scripts, the worker's pointing at the
// manager's private address.
func TestClusterLaunchTemplatesCarryTheUserData(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	res, err := p.Up(ctx, testSpec("ud"))
	if err != nil {
		t.Fatal(err)
	}
	n := names{"ud"}
	d := n.userData("us-east-1")
	wantManager, _ := RenderManager(d)
	d.ManagerAddr = res.PrivateIP
	wantWorker, _ := RenderWorker(d)
	for role, want := range map[string]string{RoleManager: wantManager, RoleWorker: wantWorker} {
		out, err := p.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateName: aws.String(n.launchTemplate(role)), Versions: []string{"$Default"}})
		if err != nil || len(out.LaunchTemplateVersions) != 1 {
			t.Fatalf("%s template: %v", role, err)
		}
		data := out.LaunchTemplateVersions[0].LaunchTemplateData
		got, err := base64.StdEncoding.DecodeString(aws.ToString(data.UserData))
		if err != nil || string(got) != want {
			t.Errorf("%s user-data:\n%s\nwant\n%s", role, got, want)
		}
		if data.IamInstanceProfile == nil || aws.ToString(data.IamInstanceProfile.Name) != n.role(role) {
			t.Errorf("%s instance profile: %+v", role, data.IamInstanceProfile)
		}
		if data.MetadataOptions == nil || data.MetadataOptions.HttpTokens != "required" {
			t.Errorf("%s metadata options: %+v (want IMDSv2 only)", role, data.MetadataOptions)
		}
	}
	if !strings.Contains(wantWorker, res.PrivateIP+":2377") || res.PrivateIP == "" {
		t.Errorf("worker joins %q", res.PrivateIP)
	}
}
