package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
	"github.com/simswarm/simswarm/api/wire"
)

// Client talks to one controller.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
}

// New returns a client for server (e.g. http://127.0.0.1:8080).
func New(server, token string) *Client {
	return &Client{Server: strings.TrimRight(server, "/"), Token: token, HTTP: &http.Client{}}
}

// APIError is an error response.
type APIError struct {
	Code   int
	Status wire.Status
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (HTTP %d)", e.Status.Message, e.Code)
	for _, c := range e.Status.Causes {
		if c.Field != "" {
			fmt.Fprintf(&b, "\n  %s: %s", c.Field, c.Message)
		} else if c.Message != e.Status.Message {
			fmt.Fprintf(&b, "\n  %s", c.Message)
		}
	}
	return b.String()
}

// IsTransient reports an error worth retrying: the controller did not
// answer (it is restarting, or a standby is taking over) or answered with
// a server-side error. A 4xx answer is final.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code >= 500
	}
	return true
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusNotFound
}

func (c *Client) url(path string) string { return c.Server + path }

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	resp, err := c.raw(ctx, method, path, body, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// raw sends a request and returns the response if it is a 2xx.
func (c *Client) raw(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	ae := &APIError{Code: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &ae.Status) != nil || ae.Status.Message == "" {
		ae.Status.Message = strings.TrimSpace(string(b))
		if ae.Status.Message == "" {
			ae.Status.Message = http.StatusText(resp.StatusCode)
		}
	}
	return nil, ae
}

func campaignPath(name string) string {
	return wire.Prefix + "/campaigns/" + url.PathEscape(name)
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// List returns all campaigns.
func (c *Client) List(ctx context.Context) ([]*api.Campaign, error) {
	var l wire.CampaignList
	err := c.do(ctx, http.MethodGet, wire.Prefix+"/campaigns", nil, &l)
	return l.Items, err
}

// Get returns one campaign.
func (c *Client) Get(ctx context.Context, name string) (*api.Campaign, error) {
	var out api.Campaign
	if err := c.do(ctx, http.MethodGet, campaignPath(name), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create creates a campaign.
func (c *Client) Create(ctx context.Context, cp *api.Campaign) (*api.Campaign, error) {
	return c.send(ctx, http.MethodPost, wire.Prefix+"/campaigns", cp)
}

// Replace updates a campaign; cp.Metadata.ResourceVersion must be current.
func (c *Client) Replace(ctx context.Context, cp *api.Campaign) (*api.Campaign, error) {
	return c.send(ctx, http.MethodPut, campaignPath(cp.Metadata.Name), cp)
}

// Apply creates or updates a campaign.
func (c *Client) Apply(ctx context.Context, cp *api.Campaign) (*api.Campaign, error) {
	out, _, err := c.ApplyCreated(ctx, cp)
	return out, err
}

// ApplyCreated is Apply that also reports whether the campaign was created.
func (c *Client) ApplyCreated(ctx context.Context, cp *api.Campaign) (*api.Campaign, bool, error) {
	body, err := jsonBody(cp)
	if err != nil {
		return nil, false, err
	}
	resp, err := c.raw(ctx, http.MethodPost, campaignPath(cp.Metadata.Name)+"/apply", body, "application/json")
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	var out api.Campaign
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, false, fmt.Errorf("apply %s: decode response: %w", cp.Metadata.Name, err)
	}
	return &out, resp.StatusCode == http.StatusCreated, nil
}

func (c *Client) send(ctx context.Context, method, path string, cp *api.Campaign) (*api.Campaign, error) {
	body, err := jsonBody(cp)
	if err != nil {
		return nil, err
	}
	var out api.Campaign
	if err := c.do(ctx, method, path, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes a campaign (its results are kept).
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, campaignPath(name), nil, nil)
}

// Retry sends a campaign's failed runs back to the queue for one more
// attempt each; it returns the controller's message (how many).
func (c *Client) Retry(ctx context.Context, name string) (string, error) {
	var out wire.Status
	if err := c.do(ctx, http.MethodPost, campaignPath(name)+"/retry", nil, &out); err != nil {
		return "", err
	}
	return out.Message, nil
}

// Suspend stops dispatching a campaign's runs; Resume continues.
func (c *Client) Suspend(ctx context.Context, name string) (*api.Campaign, error) {
	var out api.Campaign
	err := c.do(ctx, http.MethodPost, campaignPath(name)+"/suspend", nil, &out)
	return &out, err
}

// Resume continues a suspended campaign.
func (c *Client) Resume(ctx context.Context, name string) (*api.Campaign, error) {
	var out api.Campaign
	err := c.do(ctx, http.MethodPost, campaignPath(name)+"/resume", nil, &out)
	return &out, err
}

// Runs lists one page of run records (state "" = all; after -1 = start).
func (c *Client) Runs(ctx context.Context, name, state string, after, limit int) (*wire.RunList, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("after", strconv.Itoa(after))
	q.Set("limit", strconv.Itoa(limit))
	var out wire.RunList
	err := c.do(ctx, http.MethodGet, campaignPath(name)+"/runs?"+q.Encode(), nil, &out)
	return &out, err
}

// Run returns one run record.
func (c *Client) Run(ctx context.Context, name string, run int) (*schema.RunRecord, error) {
	var out schema.RunRecord
	err := c.do(ctx, http.MethodGet, campaignPath(name)+"/runs/"+strconv.Itoa(run), nil, &out)
	return &out, err
}

// Logs returns a run's log tail as text.
func (c *Client) Logs(ctx context.Context, name string, run int) (string, error) {
	resp, err := c.raw(ctx, http.MethodGet, campaignPath(name)+"/runs/"+strconv.Itoa(run)+"/logs", nil, "")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Results lists one page of result files.
func (c *Client) Results(ctx context.Context, name string, after, limit int) (*wire.ResultList, error) {
	q := url.Values{"after": {strconv.Itoa(after)}, "limit": {strconv.Itoa(limit)}}
	var out wire.ResultList
	err := c.do(ctx, http.MethodGet, campaignPath(name)+"/results?"+q.Encode(), nil, &out)
	return &out, err
}

// OpenResult streams one result file.
func (c *Client) OpenResult(ctx context.Context, name string, run int, file string) (io.ReadCloser, error) {
	resp, err := c.raw(ctx, http.MethodGet, campaignPath(name)+"/results/"+strconv.Itoa(run)+"/"+url.PathEscape(file), nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// OpenResultBatch streams several result files of one run as a tar
// archive (entries named as the files); see wire.ResultBatchRequest.
func (c *Client) OpenResultBatch(ctx context.Context, name string, run int, files []string) (io.ReadCloser, error) {
	body, err := jsonBody(wire.ResultBatchRequest{Names: files})
	if err != nil {
		return nil, err
	}
	resp, err := c.raw(ctx, http.MethodPost, campaignPath(name)+"/results/"+strconv.Itoa(run), body, "application/json")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// HasSource reports whether the source archive sha is stored.
func (c *Client) HasSource(ctx context.Context, sha string) (bool, error) {
	resp, err := c.raw(ctx, http.MethodHead, wire.Prefix+"/sources/"+sha, nil, "")
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return true, nil
}

// UploadSource uploads an archive whose sha256 is sha.
func (c *Client) UploadSource(ctx context.Context, sha string, body io.Reader, size int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.url(wire.Prefix+"/sources/"+sha), body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("upload source: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		ae := &APIError{Code: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &ae.Status) != nil {
			ae.Status.Message = strings.TrimSpace(string(b))
		}
		return ae
	}
	return nil
}
