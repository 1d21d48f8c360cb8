package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
)

// DeleteCampaign marks a campaign deleted and returns it (its uid names
// the result set its results are kept as; with purge they are freed too).
// The controller removes it in bounded batches: Get shows phase Deleting
// with progress until it is gone (404).
func (c *Client) DeleteCampaign(ctx context.Context, name string, purge bool) (*api.Campaign, error) {
	path := campaignPath(name)
	if purge {
		path += "?purge=true"
	}
	var out api.Campaign
	if err := c.do(ctx, http.MethodDelete, path, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func resultSetPath(uid string) string {
	return wire.Prefix + "/resultsets/" + url.PathEscape(uid)
}

// ResultSets lists the results kept by deleted campaigns.
func (c *Client) ResultSets(ctx context.Context) ([]schema.ResultSet, error) {
	var out wire.ResultSetList
	if err := c.do(ctx, http.MethodGet, wire.Prefix+"/resultsets", nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// ResultSet returns the result set of uid.
func (c *Client) ResultSet(ctx context.Context, uid string) (*schema.ResultSet, error) {
	var out schema.ResultSet
	if err := c.do(ctx, http.MethodGet, resultSetPath(uid), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KeptResults lists one page of a result set's files (cont "" = the
// first page; the page's Continue is the next one's, "" after the last).
func (c *Client) KeptResults(ctx context.Context, uid, cont string, limit int) (*wire.KeptResultList, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cont != "" {
		q.Set("continue", cont)
	}
	var out wire.KeptResultList
	err := c.do(ctx, http.MethodGet, resultSetPath(uid)+"/results?"+q.Encode(), nil, &out)
	return &out, err
}

// OpenKeptResult streams one file of a result set.
func (c *Client) OpenKeptResult(ctx context.Context, uid string, run int, file string) (io.ReadCloser, error) {
	resp, err := c.raw(ctx, http.MethodGet, resultSetPath(uid)+"/results/"+strconv.Itoa(run)+"/"+url.PathEscape(file), nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Prune asks the controller to free a result set; it is gone (404) once
// its files are.
func (c *Client) Prune(ctx context.Context, uid string) (*schema.ResultSet, error) {
	var out schema.ResultSet
	if err := c.do(ctx, http.MethodDelete, resultSetPath(uid), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
