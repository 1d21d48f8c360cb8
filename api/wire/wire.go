package wire

import (
	"github.com/simswarm/simswarm/api"
	"github.com/simswarm/simswarm/api/schema"
)

// Prefix is the path of the API group version.
const Prefix = "/apis/" + api.Group + "/" + api.Version

// Cause is one field-path error of an invalid manifest.
type Cause struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Status is the body of every error response.
type Status struct {
	Kind    string  `json:"kind"`
	Code    int     `json:"code"`
	Reason  string  `json:"reason"`
	Message string  `json:"message"`
	Causes  []Cause `json:"causes,omitempty"`
}

// CampaignList is the body of a list.
type CampaignList struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Items      []*api.Campaign `json:"items"`
}

// RunList is one page of run records; Next is the After of the next page
// (-1 when this is the last).
type RunList struct {
	Kind  string             `json:"kind"`
	Items []schema.RunRecord `json:"items"`
	Next  int                `json:"next"`
	// Itervars are the items' iteration variables by run number, as the
	// program lists them ("$numHosts=10, $repetition=0"), from the run list
	// of the campaign's build; none before it exists.
	Itervars map[int]string `json:"itervars,omitempty"`
}

// ResultEntry is one result file in a listing.
type ResultEntry struct {
	Run    int    `json:"run"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ResultList is one page of result files; Next as in RunList.
type ResultList struct {
	Kind  string        `json:"kind"`
	Items []ResultEntry `json:"items"`
	Next  int           `json:"next"`
}

// Bounds of one batch download (POST .../results/{run}).
const (
	// MaxResultBatchFiles bounds the files one batch names.
	MaxResultBatchFiles = 10000
	// MaxResultBatchBytes bounds their total size; larger files are
	// downloaded one by one.
	MaxResultBatchBytes = 64 << 20
)

// ResultBatchRequest names result files of one run to download together.
type ResultBatchRequest struct {
	Names []string `json:"names"`
}

// ResultSetList is the body of a result set listing.
type ResultSetList struct {
	Kind  string             `json:"kind"`
	Items []schema.ResultSet `json:"items"`
}

// KeptResultList is one page of a result set's files; Continue is the
// continue of the next page ("" when this is the last).
type KeptResultList struct {
	Kind     string        `json:"kind"`
	Items    []ResultEntry `json:"items"`
	Continue string        `json:"continue,omitempty"`
}
