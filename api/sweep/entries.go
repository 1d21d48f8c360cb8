package sweep

// Entry is a key of an ini file and its value, as written there.
type Entry struct{ Key, Value string }

// Entries are the entries config sees, in the order OMNeT++ looks them up:
// its own section's first, General's last, a key set by several sections
// of the chain once per section, as `opp_run -q runconfig` lists them
// (there with ${...} substituted by the run's values, here as written).
func (ini *Ini) Entries(config string) ([]Entry, error) {
	chain, err := ini.chain(config)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, s := range chain {
		for _, e := range s.entries {
			out = append(out, Entry{Key: e.key, Value: e.value})
		}
	}
	return out, nil
}
