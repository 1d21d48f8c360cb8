package aws

import (
	"bytes"
	"embed"
	"fmt"
	"net/netip"
	"regexp"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var userDataTemplates = template.Must(template.New("").Option("missingkey=error").ParseFS(templateFS, "templates/*.tmpl"))

// DefaultSSHUser is the login user of Amazon Linux images.
const DefaultSSHUser = "ec2-user"

// UserData is what the boot scripts need to know. It deliberately has no
// field for the join token: the token only travels through SSM.
type UserData struct {
	Cluster        string
	Region         string
	TokenParameter string
	SSHUser        string
	ManagerAddr    string // workers only: the manager's private address
}

// userData of the cluster's instances.
func (n names) userData(region string) UserData {
	return UserData{Cluster: n.cluster, Region: region, TokenParameter: n.tokenParameter(), SSHUser: DefaultSSHUser}
}

// RenderManager renders the manager's boot script.
func RenderManager(d UserData) (string, error) { return render("manager.sh.tmpl", d) }

// RenderWorker renders the workers' boot script.
func RenderWorker(d UserData) (string, error) {
	if _, err := netip.ParseAddr(d.ManagerAddr); err != nil {
		return "", fmt.Errorf("render worker user-data: manager address %q is not an IP address", d.ManagerAddr)
	}
	return render("worker.sh.tmpl", d)
}

// shellSafe is what a value must look like to be pasted into a script.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

func render(name string, d UserData) (string, error) {
	for field, v := range map[string]string{"cluster": d.Cluster, "region": d.Region, "token parameter": d.TokenParameter, "ssh user": d.SSHUser} {
		if !shellSafe.MatchString(v) {
			return "", fmt.Errorf("render %s: %s %q is empty or has characters a boot script cannot take", name, field, v)
		}
	}
	var b bytes.Buffer
	data := struct {
		UserData
		Placeholder string
	}{d, tokenPlaceholder}
	if err := userDataTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}
