package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestStackDecodeNamesFieldPathsAndRefusesZeroPorts: a Stack is decoded
// by the same strict walk as a Campaign (field paths in every error, the
// same rules for every type), and an explicit port: 0, which defaulting
// would silently turn into the default port, is refused.
func TestStackDecodeNamesFieldPathsAndRefusesZeroPorts(t *testing.T) {
	for _, tc := range []struct{ doc, path, want string }{
		{"spec: {controller: {port: 0}}", "spec.controller.port", "0 is not a port (leave the field out for the default, 8080)"},
		{"spec: {distcc: {port: 0}}", "spec.distcc.port", "0 is not a port (leave the field out for the default, 3632)"},
		{"spec: {controller: {port: \"8080\"}}", "spec.controller.port", "expected an integer"},
		{"spec: {runner: {cpuReservaton: 1}}", "spec.runner.cpuReservaton", "unknown field"},
		{"spec: {runner: {maxReplicas: 1.5}}", "spec.runner.maxReplicas", "expected an integer"},
	} {
		_, err := ParseStack([]byte("apiVersion: simswarm.io/v1alpha1\nkind: Stack\nmetadata: {name: lab}\n"+tc.doc+"\n"), "stack.yaml")
		var de *DecodeError
		if !errors.As(err, &de) || len(de.Errors) != 1 || de.Errors[0].Path != tc.path || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant %s: ...%s", tc.doc, err, tc.path, tc.want)
		}
	}
	s, err := ParseStack([]byte("apiVersion: simswarm.io/v1alpha1\nkind: Stack\nmetadata: {name: lab}\nspec: {controller: {port: 9090}}\n"), "stack.yaml")
	if err != nil || s.Spec.Controller.Port != 9090 {
		t.Fatalf("port 9090: %+v %v", s, err)
	}
}

// TestDefaultedStackRoundTrips: the controller service reads its stack
// from the JSON of a defaulted Stack (stackspec puts it in its env).
func TestDefaultedStackRoundTrips(t *testing.T) {
	s := DefaultStack("lab")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseStack(b, "env")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	SetStackDefaults(got)
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip changed the stack:\n%+v\n%+v", got, s)
	}
}
