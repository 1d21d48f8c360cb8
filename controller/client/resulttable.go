package client

import (
	"context"
	"net/url"

	"github.com/simswarm/simswarm/api/wire"
	"github.com/simswarm/simswarm/workers/resulttable"
)

// ResultTable returns campaign name's table of results (the runs indexed
// so far) of the values the scalar patterns select (none: all).
func (c *Client) ResultTable(ctx context.Context, name string, patterns []string) (*resulttable.Table, error) {
	q := url.Values{"scalar": patterns}
	var t resulttable.Table
	err := c.do(ctx, "GET", wire.Prefix+"/campaigns/"+url.PathEscape(name)+"/results/table?"+q.Encode(), nil, &t)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
