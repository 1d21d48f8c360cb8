// Package resulttable computes tables of scalar results by iteration
// variables: for every (iteration variables without the repetition,
// module, name) the number of repetitions n, the mean, the sample standard
// deviation and the half-width of the 95% confidence interval of the mean
// (Student's t with n-1 degrees of freedom). It reads runs from the
// result index (package resultindex, on the controller) or from a local
// results directory of .sca files, and writes aligned text, CSV or JSON.
//
//	f, err := resulttable.NewFilter([]string{"Aloha.server.channelUtilization:last"})
//	b := resulttable.NewBuilder(f)
//	b.AddRun(doc.Itervars, doc.Values) // per run; or: t, err := resulttable.FromDir(dir, f)
//	t := b.Table()
//	t.WriteText(os.Stdout)
//
// Patterns are OMNeT++-style globs on "<module>.<name>" (statistics'
// fields are named "<statistic>:<field>", as opp_scavetool -w names
// them): "**" matches anything, "*" and "?" anything but a dot, "{a,b}"
// either alternative; no pattern matches everything.
//
// Interval gives the same statistics at any confidence level (a
// campaign's stop rule decides on them).
//
// Guarantees: a table does not depend on the order its runs were added in
// (each group's values are sorted before they are summed), so the table
// of a campaign from the controller equals the table of its pulled files;
// rows are sorted by module, name and iteration variables (numbers by
// value); a statistic that cannot be computed (the deviation of one value,
// anything of a NaN) is NaN, written as "-" in text, "" in CSV and null in
// JSON. Runs that could not be read are counted and named in Problems,
// never left out silently.
package resulttable
