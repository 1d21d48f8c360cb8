package api

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/simswarm/simswarm/internal/textutil"
)

// maxScalarLen bounds a stop rule's scalar name.
const maxScalarLen = 1024

// stop checks a defaulted stop rule.
func (v *validator) stop(st *StopRule) {
	switch sc := st.Scalar; {
	case sc == "":
		v.add("spec.stop.scalar", "", `required: the scalar as results table names it, "<module>.<name>", e.g. "Aloha.server.channelUtilization:last"`)
	case len(sc) > maxScalarLen || strings.IndexFunc(sc, unicode.IsControl) >= 0:
		v.add("spec.stop.scalar", textutil.Truncate(sc, 80), "%q is not a scalar name: one line of at most %d bytes", textutil.Truncate(sc, 80), maxScalarLen)
	case strings.ContainsAny(sc, "*?{}"):
		v.add("spec.stop.scalar", sc, "%q is a pattern: a stop rule names one scalar, \"<module>.<name>\"", sc)
	case !validScalarName(sc):
		v.add("spec.stop.scalar", sc, "%q is not \"<module>.<name>\" (e.g. \"Aloha.server.channelUtilization:last\")", sc)
	}
	if c := st.Confidence; !(c > 0 && c < 1) {
		v.add("spec.stop.confidence", formatFloat(c), "%s is not a confidence level: a number between 0 and 1 exclusive, e.g. 0.95", formatFloat(c))
	}
	if r := st.RelativeHalfWidth; !(r > 0 && r <= 1) {
		v.add("spec.stop.relativeHalfWidth", formatFloat(r), "%s is not a relative half-width: a number in (0, 1], e.g. 0.05 for within 5%% of the mean", formatFloat(r))
	}
	if m := st.MinRepetitions; m < 2 || m > MaxStopMinRepetitions {
		v.add("spec.stop.minRepetitions", strconv.Itoa(int(m)), "%d is not in 2..%d (an interval needs two values)", m, MaxStopMinRepetitions)
	}
}

// validScalarName reports whether s is "<module>.<name>" with both parts
// non-empty.
func validScalarName(s string) bool {
	i := strings.LastIndexByte(s, '.')
	// The module's path may have several dots; matching compares
	// "<module>.<name>" whole, so where it splits does not matter.
	return i > 0 && i < len(s)-1 && !strings.HasPrefix(s, ".")
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
