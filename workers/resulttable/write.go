package resulttable

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
)

func (n Number) text(missing string) string {
	f := float64(n)
	if math.IsNaN(f) {
		return missing
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

func (t *Table) header() []string {
	return append(append([]string{}, t.Vars...), "module", "name", "n", "mean", "stddev", "ci95")
}

func (r *Row) cells(missing string, full bool) []string {
	num := func(n Number) string {
		if full && !math.IsNaN(float64(n)) {
			return strconv.FormatFloat(float64(n), 'g', -1, 64)
		}
		return n.text(missing)
	}
	return append(append([]string{}, r.Vars...), r.Module, r.Name, strconv.Itoa(r.N), num(r.Mean), num(r.StdDev), num(r.CI95))
}

// WriteText writes the table with aligned columns (six significant digits),
// then a line on the runs that could not be read, if any.
func (t *Table) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	line(t.header())
	for i := range t.Rows {
		line(t.Rows[i].cells("-", false))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return t.writeProblems(w)
}

func (t *Table) writeProblems(w io.Writer) error {
	if t.ProblemCount == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "%d of %d runs could not be read:\n", t.ProblemCount, t.Runs+t.ProblemCount)
	for _, p := range t.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if t.ProblemCount > len(t.Problems) {
		fmt.Fprintf(w, "  ...\n")
	}
	return err
}

// WriteCSV writes the table as CSV with full precision (NaN as an empty
// cell); runs that could not be read are not in it (see Problems).
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(t.header())
	for i := range t.Rows {
		cw.Write(t.Rows[i].cells("", true))
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the table as one JSON object.
func (t *Table) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

// CheckFormat says whether Write knows format.
func CheckFormat(format string) error {
	switch format {
	case "", "text", "table", "csv", "json":
		return nil
	}
	return fmt.Errorf("output format %q: want text, csv or json", format)
}

// Write writes the table in format "text", "csv" or "json".
func (t *Table) Write(w io.Writer, format string) error {
	switch format {
	case "", "text", "table":
		return t.WriteText(w)
	case "csv":
		return t.WriteCSV(w)
	case "json":
		return t.WriteJSON(w)
	}
	return CheckFormat(format)
}
