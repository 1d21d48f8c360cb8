package oppcli

import "context"

// ResultRootOf is ResultRoot for a run whose result directory the caller
// already knows (from -q runconfig: its result-dir entry, "" when it has
// none), so that no process is started to ask for it.
func ResultRootOf(ctx context.Context, inv Invocation, dir, runResultDir string) (string, error) {
	return resultRoot(ctx, inv, dir, func() (string, error) {
		switch {
		case inv.ResultDir != "":
			return inv.ResultDir, nil
		case runResultDir == "":
			return "results", nil
		}
		return runResultDir, nil
	})
}
