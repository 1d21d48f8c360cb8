package aws

import (
	"fmt"
	"time"
)

// hourlyUSD is a small built-in table of on-demand Linux prices (us-east-1,
// USD per hour). It is an estimate only: regions, taxes, EBS and traffic differ.
var hourlyUSD = map[string]float64{
	"t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664,
	"c5.large": 0.085, "c5.xlarge": 0.17, "c5.2xlarge": 0.34, "c5.4xlarge": 0.68,
	"c6i.large": 0.085, "c6i.xlarge": 0.17, "c6i.2xlarge": 0.34, "c6i.4xlarge": 0.68,
	"c7i.large": 0.08925, "c7i.xlarge": 0.1785, "c7i.2xlarge": 0.357,
	"m5.large": 0.096, "m5.xlarge": 0.192, "m6i.large": 0.096, "m6i.xlarge": 0.192,
}

// HourlyPrice returns the estimated hourly price of one instance type and
// whether the type is in the table.
func HourlyPrice(instanceType string) (float64, bool) {
	p, ok := hourlyUSD[instanceType]
	return p, ok
}

// Estimate is the hourly cost of a cluster spec.
type Estimate struct {
	PerHourUSD float64
	Unknown    []string // instance types not in the table (not counted)
}

// EstimateSpec sums the hourly price of the manager and the workers.
func EstimateSpec(s Spec) Estimate {
	var e Estimate
	add := func(t string, n int) {
		if p, ok := HourlyPrice(t); ok {
			e.PerHourUSD += p * float64(n)
		} else {
			e.Unknown = append(e.Unknown, t)
		}
	}
	add(s.ManagerType, 1)
	if s.Workers > 0 {
		add(s.WorkerType, s.Workers)
	}
	return e
}

func (e Estimate) String() string {
	s := fmt.Sprintf("estimated $%.4f per hour (on-demand list prices, us-east-1; an estimate, not a quote)", e.PerHourUSD)
	if len(e.Unknown) > 0 {
		s += fmt.Sprintf("; no price known for %v", e.Unknown)
	}
	return s
}

// costSoFar estimates what one instance has cost since it was launched.
func costSoFar(instanceType string, launched, now time.Time) float64 {
	p, _ := HourlyPrice(instanceType)
	if launched.IsZero() || now.Before(launched) {
		return 0
	}
	return p * now.Sub(launched).Hours()
}
