package resulttable

import "math"

// Interval summarizes vs as a table row does, at any confidence level:
// the mean, the sample standard deviation and the half-width of the
// confidence interval of the mean at level confidence (Student's t with
// n-1 degrees of freedom). Interval(vs, 0.95) gives a row's Mean, StdDev
// and CI95 bit for bit: the values are sorted (in place) before they are
// summed. sd and half are NaN for fewer than two values, the mean for
// none; anything of a NaN is NaN.
func Interval(vs []float64, confidence float64) (mean, sd, half float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	if confidence == 0.95 {
		return summarize(vs, map[int]float64{})
	}
	mean, sd, _ = summarize(vs, map[int]float64{})
	n := len(vs)
	if n < 2 || !(confidence > 0 && confidence < 1) {
		return mean, sd, math.NaN()
	}
	return mean, sd, tQuantile((1+confidence)/2, n-1) * sd / math.Sqrt(float64(n))
}
