package oppcli

// Without is Args with the options drop names left out, each with its
// value as OMNeT++ reads it (-r 3, -r3, --name=value, --name value); drop
// is asked once per option or ini file, in order (short is the option's
// letter or 0, long the long option's name, ini whether it is an ini file
// or the "--" before them). The program (Args[0]) is always kept.
func (inv Invocation) Without(drop func(short byte, long string, ini bool) bool) []string {
	out := []string{inv.Args[0]}
	for _, p := range inv.parsed {
		if drop(p.short, p.long, p.ini || p.endOpts) {
			continue
		}
		for _, i := range p.at {
			out = append(out, inv.Args[i])
		}
	}
	return out
}
