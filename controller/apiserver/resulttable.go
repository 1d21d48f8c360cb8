package apiserver

import (
	"fmt"
	"net/http"

	"github.com/simswarm/simswarm/workers/resultindex"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// maxTablePatterns bounds the scalar patterns of one table request.
const maxTablePatterns = 64

// resultTable answers GET .../campaigns/{name}/results/table?scalar=GLOB...
// with the campaign's table of results (resulttable.Table) from the result
// index, live: the runs indexed so far. Runs whose .sca could not be
// indexed are the table's Problems; Succeeded runs with no index document
// (a crash between their completion and their index) are counted in one.
func (s *Server) resultTable(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	patterns := r.URL.Query()["scalar"]
	if len(patterns) > maxTablePatterns {
		s.fail(w, r, fmt.Errorf("%w: more than %d scalar patterns", errBadRequest, maxTablePatterns))
		return
	}
	f, err := resulttable.NewFilter(patterns)
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: %w", errBadRequest, err))
		return
	}
	b := resulttable.NewBuilder(f)
	indexed := 0
	err = s.Store.ScanResultIndex(r.Context(), c.Metadata.UID, f.Match, func(d *resultindex.Doc) error {
		indexed++
		if d.Error != "" && d.Indexed == 0 {
			b.Problem(fmt.Sprintf("run %d: %s", d.Run, d.Error))
			return nil
		}
		if d.Error != "" {
			b.Problem(fmt.Sprintf("run %d (partly indexed): %s", d.Run, d.Error))
		}
		b.AddRun(d.Itervars, d.Values)
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if missing := c.Status.Runs.Succeeded - int64(indexed); missing > 0 {
		b.Problem(fmt.Sprintf("%d succeeded runs have no result index yet (stored before indexing, or their worker stopped between storing and indexing; the controller indexes them within minutes)", missing))
	}
	writeJSON(w, http.StatusOK, b.Table())
}
