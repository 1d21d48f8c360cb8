package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestClusterCredentialsNeverInLogsOrErrors: a whole life cycle, including
// failures, at debug level: no log entry, error or printed plan carries
// the access key id, the secret key or the private key.
func TestClusterCredentialsNeverInLogsOrErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var seen []string
	note := func(v ...any) { seen = append(seen, fmt.Sprint(v...)) }

	p := e.provider(t, "us-east-1")
	res, err := p.Up(ctx, testSpec("sec"))
	note(res.Plan.String(), err)
	if res.PrivateKey == "" {
		t.Fatal("no private key to look for")
	}
	st, err := p.Status(ctx, "sec")
	note(fmt.Sprintf("%+v", st), err)
	acts, err := p.Halt(ctx, "sec")
	note(acts, err)
	acts, err = p.Resume(ctx, "sec")
	note(acts, err)
	_, err = p.Up(ctx, Spec{Name: "sec", SSHCIDR: "not a cidr", WorkerType: "x"})
	note(err)

	e.url = faultProxy(t, e.motoURL, map[string]string{
		"DescribeKeyPairs":  ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials "+testKeyID),
		"GetCallerIdentity": queryError("InvalidClientTokenId", "The security token included in the request is invalid: "+testKeyID+" "+testSecret),
	})
	bad := e.provider(t, "us-east-1")
	_, err = bad.Up(ctx, testSpec("sec"))
	note(err)
	_, err = bad.Status(ctx, "sec")
	note(err)
	e.url = e.motoURL
	acts, err = p.Destroy(ctx, "sec")
	note(acts, err)

	for _, entry := range e.logs.All() {
		note(entry.Message, entry.ContextMap())
	}
	if e.logs.Len() == 0 {
		t.Fatal("nothing was logged: the test would prove nothing")
	}
	all := strings.Join(seen, "\n")
	for what, secret := range map[string]string{"access key id": testKeyID, "secret key": testSecret, "private key": "PRIVATE KEY", "key material": res.PrivateKey[40:80]} {
		if strings.Contains(all, secret) {
			t.Errorf("the %s shows up in logs or errors", what)
		}
	}
}
