// Command simswarm runs OMNeT++/INET simulation campaigns on one machine or
// on a Docker Swarm. One binary carries the user CLI, the controller and the
// workers; see `simswarm --help`.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	stopProfile := startProfile(os.Args)
	err := newRootCmd().Execute()
	stopProfile()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	var ex *exitError
	if errors.As(err, &ex) {
		os.Exit(ex.code)
	}
	os.Exit(1)
}

// exitError carries a specific exit status up to main: 2 for invalid input
// (usage, manifests), 1 for failed work.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// invalidInput marks err as the user's input being wrong (exit status 2).
func invalidInput(err error) error { return &exitError{code: 2, err: err} }
