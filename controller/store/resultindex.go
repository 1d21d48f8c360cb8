package store

import (
	"context"

	"github.com/simswarm/simswarm/workers/resultindex"
)

// ScanResultIndex calls fn with the result index document of every
// indexed run of campaign object uid, each run once, with only the values
// keep accepts (nil: all); fn's error stops the scan and is returned. It
// reads the runs not compacted yet, then the segments
// (resultindex.Scan); when it found at least resultindex.CompactMin
// uncompacted runs (an index written before compaction, or by runners
// that did not compact), it compacts them for the next scan, best effort.
func (s *Store) ScanResultIndex(ctx context.Context, uid string, keep func(module, name string) bool, fn func(*resultindex.Doc) error) error {
	loose, err := resultindex.Scan(ctx, s.DB, uid, keep, fn)
	if err != nil {
		return err
	}
	if loose >= resultindex.CompactMin {
		_, _ = resultindex.Compact(ctx, s.DB, uid)
	}
	return nil
}
