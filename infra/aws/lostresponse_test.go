package aws

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// lostResponseProxy stands in front of moto and lets moto carry out the
// first call of each named action, then drops the connection instead of
// answering: the client never learns that its create succeeded, and the
// SDK's retryer sends it again. That is what a busy network does to a real
// Up (seen here as "use of closed network connection", then
// "EntityAlreadyExists" on the retried CreateRole).
func lostResponseProxy(t *testing.T, target string, actions ...string) string {
	t.Helper()
	u, err := url.Parse(target)
	must(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	pending := map[string]bool{}
	for _, a := range actions {
		pending[a] = true
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		mu.Lock()
		drop := pending[action]
		delete(pending, action)
		mu.Unlock()
		if !drop {
			rp.ServeHTTP(w, r)
			return
		}
		rp.ServeHTTP(httptest.NewRecorder(), r) // moto acts; the answer is lost
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestClusterUpSurvivesLostCreateResponses: when the answer to a create is
// lost and the SDK retries it, Up adopts what its own first attempt made
// (it carries the cluster's tag) instead of failing on "already exists",
// and the cluster holds one set of resources.
func TestClusterUpSurvivesLostCreateResponses(t *testing.T) {
	e := newEnv(t)
	// Not RunInstances and CreateAutoScalingGroup: the SDK gives the first a
	// client token that makes AWS answer a retry with the same instances,
	// which moto 5.2 ignores, and moto replaces a group of the same name
	// where AWS answers AlreadyExists (which Up handles like the others).
	e.url = lostResponseProxy(t, e.motoURL, "CreateRole", "CreateInstanceProfile", "AddRoleToInstanceProfile",
		"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "CreateKeyPair", "CreateLaunchTemplate")
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	first, err := p.Up(ctx, testSpec("lost"))
	if err != nil {
		t.Fatalf("up with lost answers: %v", err)
	}
	// The lost answer carried the only copy of the key pair's private key:
	// Up makes the key pair again rather than hand back none.
	if !strings.Contains(first.PrivateKey, "PRIVATE KEY") {
		t.Errorf("up handed back no private key (%d bytes)\n%s", len(first.PrivateKey), first.Plan)
	}
	if got, want := p.inventory(t, "lost"), fullCluster(2); got != want {
		t.Fatalf("after up: %+v, want %+v", got, want)
	}
	e.ops.take()
	second, err := p.Up(ctx, testSpec("lost"))
	if err != nil {
		t.Fatal(err)
	}
	if second.Changes() != 0 {
		t.Errorf("second up changed things:\n%s", second.Plan)
	}
}

// TestClusterDestroySurvivesLostDeleteResponses: a delete whose answer was
// lost and that the SDK retried is answered "not found"; that is the
// outcome Destroy wanted, not a failure.
func TestClusterDestroySurvivesLostDeleteResponses(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, "us-east-1")
	ctx := context.Background()
	if _, err := p.Up(ctx, testSpec("lostdel")); err != nil {
		t.Fatal(err)
	}
	// Not RemoveRoleFromInstanceProfile: moto 5.2 answers its retry with
	// a malformed error document where AWS says NoSuchEntity.
	e.url = lostResponseProxy(t, e.motoURL, "DeleteAlarms", "DeletePolicy", "DeleteAutoScalingGroup",
		"DeleteLaunchTemplate", "DeleteSecurityGroup", "DeleteKeyPair",
		"DeleteInstanceProfile", "DeleteRolePolicy", "DeleteRole")
	p = e.provider(t, "us-east-1")
	if _, err := p.Destroy(ctx, "lostdel"); err != nil {
		t.Fatalf("destroy with lost answers: %v", err)
	}
	if got := p.inventory(t, "lostdel"); got != (inventory{}) {
		t.Errorf("after destroy: %+v", got)
	}
}
