package aws

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// CheckIPURL answers with the caller's public IPv4 address.
const CheckIPURL = "https://checkip.amazonaws.com"

// CallerCIDR asks url (CheckIPURL) for the caller's public address and
// returns it as a /32, the default source allowed to reach SSH.
func CallerCIDR(ctx context.Context, hc *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("find your public address: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("find your public address (pass --ssh-cidr instead): %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("find your public address (pass --ssh-cidr instead): %s answered %s", url, resp.Status)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(string(b)))
	if err != nil || !a.Is4() {
		return "", fmt.Errorf("find your public address (pass --ssh-cidr instead): %s did not answer with an IPv4 address", url)
	}
	return netip.PrefixFrom(a, 32).String(), nil
}

// StateDir is where simswarm keeps a cluster's private key and
// known_hosts file: $XDG_CONFIG_HOME/simswarm/aws/<cluster> (or the
// platform's config directory).
func StateDir(cluster string) (string, error) {
	if err := ValidateName(cluster); err != nil {
		return "", err
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory: %w", err)
	}
	return filepath.Join(base, "simswarm", "aws", cluster), nil
}

// KeyFile is the path of the private key Up saves in dir.
func KeyFile(dir string) string { return filepath.Join(dir, "id_ed25519") }

// KnownHostsFile is the path of the cluster's known_hosts file in dir.
func KnownHostsFile(dir string) string { return filepath.Join(dir, "known_hosts") }

// SavePrivateKey writes the key AWS returned once, readable by the user only.
func SavePrivateKey(dir, pem string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("save the private key: %w", err)
	}
	path := KeyFile(dir)
	if !strings.HasSuffix(pem, "\n") {
		pem += "\n"
	}
	if err := os.WriteFile(path, []byte(pem), 0o600); err != nil {
		return "", fmt.Errorf("save the private key: %w", err)
	}
	return path, nil
}

// HostKeyAlias is the name under which the manager's host keys are kept
// in known_hosts: the public address changes with every stop and start.
func HostKeyAlias(cluster string) string { return "simswarm-" + cluster + "-manager" }

// ErrNoHostKeys means the console output does not (yet) show the host keys.
var ErrNoHostKeys = errors.New("the manager's console output shows no SSH host keys (yet)")

// HostKeys reads the SSH host keys that cloud-init prints to the
// instance's console, so the first connection can be verified instead of
// trusted blindly.
func (p *Provider) HostKeys(ctx context.Context, instanceID string) ([]string, error) {
	out, err := p.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(instanceID)})
	if err != nil {
		return nil, wrap("read the console output of "+instanceID, err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		return nil, &Error{Step: "read the console output of " + instanceID, msg: "not base64"}
	}
	keys := ParseHostKeys(string(raw))
	if len(keys) == 0 {
		return nil, ErrNoHostKeys
	}
	return keys, nil
}

// ParseHostKeys returns the "type base64" lines between cloud-init's
// BEGIN/END SSH HOST KEY KEYS markers.
func ParseHostKeys(console string) []string {
	var keys []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(console))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		// cloud-init prefixes console lines with "ec2: " on some images.
		line = strings.TrimSpace(strings.TrimPrefix(line, "ec2:"))
		switch {
		case strings.Contains(line, "-----BEGIN SSH HOST KEY KEYS-----"):
			in = true
		case strings.Contains(line, "-----END SSH HOST KEY KEYS-----"):
			in = false
		case in:
			f := strings.Fields(line)
			if len(f) >= 2 && sshPublicKeyRE.MatchString(f[0]+" "+f[1]) {
				keys = append(keys, f[0]+" "+f[1])
			}
		}
	}
	return keys
}

// WriteKnownHosts writes keys under alias into path (replacing it).
func WriteKnownHosts(path, alias string, keys []string) error {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(alias + " " + k + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
