package dashboard

import (
	"context"

	"go.uber.org/zap"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/workers/runlist"
)

// RunVars gives a campaign's runs' iteration variables: the run list its
// build's program wrote (nil while there is none). *runlist.Cache
// satisfies it; share the API server's.
type RunVars interface {
	OfCampaign(ctx context.Context, c *api.Campaign) (*runlist.Vars, error)
}

// addVars fills in rows' iteration variables; without a source, or when
// the list cannot be read, the rows go without them.
func (s *Server) addVars(ctx context.Context, c *api.Campaign, rows []RunRow) {
	if s.cfg.RunVars == nil || len(rows) == 0 {
		return
	}
	vars, err := s.cfg.RunVars.OfCampaign(ctx, c)
	if err != nil {
		s.log.Debug("reading a campaign's run list for its variables failed", zap.String("campaign", c.Metadata.Name), zap.Error(err))
		return
	}
	for i := range rows {
		rows[i].Vars = vars.Of(rows[i].Run)
	}
}
