package main

import (
	"fmt"
	"io"

	"github.com/simswarm/simswarm/api"
)

// describeStop prints a campaign's stop rule and how far its points are.
func describeStop(w io.Writer, cp *api.Campaign) {
	st := cp.Spec.Stop
	if st == nil {
		return
	}
	fmt.Fprintf(w, "Stop rule:     %s within ±%g%% of the mean at %g%% confidence, at least %d repetitions\n",
		st.Scalar, 100*st.RelativeHalfWidth, 100*st.Confidence, st.MinRepetitions)
	p := cp.Status.Points
	if p == nil {
		fmt.Fprintln(w, "Points:        not known yet")
		return
	}
	fmt.Fprintf(w, "Points:        %d of %d converged", p.Converged, p.Total)
	if p.Missing > 0 {
		fmt.Fprintf(w, ", %d cannot (no %s in their runs)", p.Missing, st.Scalar)
	}
	fmt.Fprintln(w)
	if p.Message != "" {
		fmt.Fprintf(w, "               %s\n", p.Message)
	}
}
