package oppcli

import (
	"context"
	"fmt"
	"slices"

	"github.com/simswarm/simswarm/api"
)

// NoSuchRuns tells why the program refused an invocation whose -r is a
// filter of run numbers going beyond the config: it asks the program for
// the config's runs (-q runnumbers without -r) and returns an error
// wrapping *api.NoSuchRunsError that names every number the program does
// not list, as the cluster names them (api.RunFilter.Select), where OMNeT++
// names the first ("Run number 50 in run list '0..99' is out of range
// 0..49"). It returns nil when -r is not a filter of run numbers, when
// every number exists (the refusal was something else) or when the
// program cannot say.
func NoSuchRuns(ctx context.Context, inv Invocation, dir string, env []string) error {
	if inv.Filter == "" || api.IsRunExpression(inv.Filter) {
		return nil
	}
	f, err := api.ParseRunFilter(inv.Filter)
	if err != nil {
		return nil
	}
	all, err := ParseInvocation(inv.withoutFilter())
	if err != nil {
		return nil
	}
	listed, err := QueryRunNumbersOf(ctx, all, dir, env)
	if err != nil {
		return nil
	}
	slices.Sort(listed)
	if _, err := f.Select(inv.Config, listed); err != nil {
		return fmt.Errorf("-r %q: %w", inv.Filter, err)
	}
	return nil
}
