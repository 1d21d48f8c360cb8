package campaign

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/controller/store"
	"github.com/simswarm/simswarm/workers/gridfs"
	"github.com/simswarm/simswarm/workers/jobs"
)

// SpecExpander expands a campaign's runs: the spec.simulation.runs filter
// if given, else every run of the ini's config, read from the uploaded
// source archive (source.path campaigns) or, for git sources, from the
// built artifact once the build succeeded.
type SpecExpander struct {
	Store *store.Store
	// FilterNumbers returns the run numbers of a run filter ("0..9,20"),
	// ascending (api.ParseRunFilter + Numbers).
	FilterNumbers func(filter string) ([]int, error)
	// IniRunCount parses an ini and returns how many runs config has
	// (api/sweep).
	IniRunCount func(r io.Reader, name, config string) (int, error)
}

// maxIniBytes caps the ini read from an archive.
const maxIniBytes = 4 << 20

// Expand implements Expander.
func (e *SpecExpander) Expand(ctx context.Context, c *api.Campaign, b *jobs.BuildRecord) ([]int, bool, error) {
	sim := c.Spec.Simulation
	if sim.Runs != "" {
		runs, err := e.FilterNumbers(sim.Runs)
		if err != nil {
			return nil, false, fmt.Errorf("%w: spec.simulation.runs: %v", ErrInvalid, err)
		}
		return runs, true, nil
	}
	if e.IniRunCount == nil {
		return nil, false, fmt.Errorf("%w: spec.simulation.runs: required (this controller cannot expand ini sweeps)", ErrInvalid)
	}
	var bucket, file string
	switch {
	case c.Spec.Source.Archive != "":
		bucket, file = jobs.BucketSources, store.SourceName(c.Spec.Source.Archive)
	case b != nil && b.State == jobs.BuildSucceeded:
		bucket, file = jobs.BucketArtifacts, b.Key+".tar.gz"
	default:
		return nil, false, nil
	}
	ini := sim.IniFile
	if ini == "" {
		ini = "omnetpp.ini"
	}
	wd := sim.WorkingDir
	if wd == "" {
		wd = "."
	}
	want := path.Clean(path.Join(wd, ini))
	config := sim.Config
	if config == "" {
		config = "General"
	}
	st, err := gridfs.OpenByName(ctx, e.Store.DB, bucket, file)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, false, err
		}
		if c.Spec.Source.Archive != "" && errors.Is(err, mongo.ErrFileNotFound) {
			return nil, false, fmt.Errorf("%w: source archive %s was never uploaded", ErrInvalid, c.Spec.Source.Archive)
		}
		return nil, false, fmt.Errorf("open %s/%s: %w", bucket, file, err)
	}
	defer st.Close()
	zr, err := gzip.NewReader(st)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s is not a gzip archive: %v", ErrInvalid, file, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, false, fmt.Errorf("%w: %s not found in the %s", ErrInvalid, want, map[bool]string{true: "source archive", false: "build artifact"}[bucket == jobs.BucketSources])
		}
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", file, err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != want || h.Typeflag != tar.TypeReg {
			continue
		}
		n, err := e.IniRunCount(io.LimitReader(tr, maxIniBytes), want, config)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: %v", ErrInvalid, want, err)
		}
		runs := make([]int, n)
		for i := range runs {
			runs[i] = i
		}
		return runs, true, nil
	}
}
