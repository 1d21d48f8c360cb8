package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestClientDoesNotDependOnTheServer: the client is built from the API's
// types (api, api/wire, api/schema), not from the server or its store, so
// that a CLI or a test can talk to a controller without linking one.
func TestClientDoesNotDependOnTheServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "github.com/simswarm/simswarm/controller/apiserver", "github.com/simswarm/simswarm/controller/store":
			t.Errorf("controller/client depends on %s", dep)
		}
	}
}
