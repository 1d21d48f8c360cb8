package api

// StopRule is a campaign's statistical stopping rule: the runs of each
// parameter point (its iteration variables but the repetition) are
// dispatched repetition by repetition, and a point's remaining
// repetitions are skipped once the confidence interval of the mean of
// Scalar over its finished repetitions (Student's t, as `simswarm results
// table` computes it) has a half-width of at most RelativeHalfWidth times
// the mean, with at least MinRepetitions values.
type StopRule struct {
	// Scalar names one scalar (or a statistic's field) as `simswarm
	// results table` shows it: "<module>.<name>", e.g.
	// "Aloha.server.channelUtilization:last". Not a pattern.
	Scalar string `json:"scalar"`
	// Confidence is the interval's confidence level. Default 0.95.
	Confidence float64 `json:"confidence,omitempty"`
	// RelativeHalfWidth is the widest half-width accepted, relative to
	// the mean's magnitude (0.05: within 5%).
	RelativeHalfWidth float64 `json:"relativeHalfWidth"`
	// MinRepetitions is how many values a point has at least before its
	// interval is trusted. Default 3; at least 2.
	MinRepetitions int32 `json:"minRepetitions,omitempty"`
}

// Defaults and bounds of a stop rule.
const (
	DefaultStopConfidence     = 0.95
	DefaultStopMinRepetitions = 3
	MaxStopMinRepetitions     = 10_000
)

// PointsStatus counts the parameter points of a campaign with a stop rule.
type PointsStatus struct {
	// Total is the number of points the campaign's runs make.
	Total int64 `json:"total"`
	// Converged are the points whose interval met the rule.
	Converged int64 `json:"converged"`
	// Missing are the points with finished runs of which none has the
	// rule's scalar: they never converge and run every repetition.
	Missing int64 `json:"missing,omitempty"`
	// Message says what keeps points from converging (e.g. the scalar
	// missing in their runs), empty when nothing does.
	Message string `json:"message,omitempty"`
}
