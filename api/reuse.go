package api

// ReuseEnabled says whether the campaign reuses stored runs (spec.reuse,
// default true).
func (s CampaignSpec) ReuseEnabled() bool { return s.Reuse == nil || *s.Reuse }
