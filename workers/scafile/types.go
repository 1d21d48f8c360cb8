package scafile

// File is the content of one .sca file: usually one run, more when
// OMNeT++ appended to it (output-scalar-file-append).
type File struct {
	Version int // 2 or 3; 0 when the file has no version line
	Runs    []*Run
	// Skipped lists records of unknown types, at most MaxSkipped of them;
	// SkippedCount counts them all.
	Skipped      []Skip
	SkippedCount int
}

// Skip is a line Parse did not understand and left out.
type Skip struct {
	Line   int    // 1-based
	Record string // the record type (first token), cut to 64 bytes
}

// KV is a name and a value, in file order.
type KV struct {
	Name, Value string
}

// Run is one "run" record and what follows it up to the next run.
type Run struct {
	ID         string
	Attrs      []KV // run attributes: configname, experiment, repetition, ...
	Itervars   []KV
	Config     []KV // config (and version 2's param) entries, in file order
	Params     []Param
	Scalars    []Scalar
	Statistics []Statistic
}

// Param is a recorded module parameter ("par").
type Param struct {
	Module, Name, Value string
	Attrs               []KV
}

// Scalar is a "scalar" record.
type Scalar struct {
	Module, Name string
	Value        float64
	Attrs        []KV
}

// Statistic is a "statistic" record with its fields (count, mean, stddev,
// min, max, sum, sqrsum, or the weighted ones) and, for a histogram, its
// bins: the first bin's lower edge is -inf (underflows), the last is the
// upper edge of the last real bin (overflows).
type Statistic struct {
	Module, Name string
	Fields       []Field
	Attrs        []KV
	Bins         []Bin
}

// Field is one field of a statistic.
type Field struct {
	Name  string
	Value float64
}

// Bin is a histogram bin: its lower edge and its value.
type Bin struct {
	Lower, Value float64
}

// Attr returns the value of the attribute name and whether there is one.
func Attr(attrs []KV, name string) (string, bool) {
	for _, kv := range attrs {
		if kv.Name == name {
			return kv.Value, true
		}
	}
	return "", false
}

// Field returns the value of the field name and whether there is one.
func (s *Statistic) Field(name string) (float64, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}
