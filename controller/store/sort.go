package store

import (
	"sort"

	"github.com/simswarm/simswarm/api"
)

func sortByName(cs []*api.Campaign) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Metadata.Name < cs[j].Metadata.Name })
}
