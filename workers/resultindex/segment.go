package resultindex

import (
	"encoding/binary"
	"errors"
	"math"
)

// A segment holds the documents of many runs of one campaign object, by
// column: each (module, name) once, followed by its values as (run's
// position, value) pairs, so that a reader skips the columns it does not
// want without decoding them, and FerretDB reads one document (one JSON
// row) per thousands of runs instead of one per run.
//
// The encoding: a version byte (1); uvarint(runs); per run uvarint(run),
// uvarint(attempt), str(config), str(repetition), str(error),
// uvarint(skipped), uvarint(itervars) and str(name) str(value) each; then
// uvarint(columns); per column str(module), str(name), uvarint(values),
// uvarint(length of what follows), and per value uvarint(the run's
// position) and its IEEE 754 bits, 8 bytes little-endian. str is
// uvarint(length) and the bytes.

const segmentVersion = 1

var errSegment = errors.New("result index segment: malformed")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type colKey struct{ module, name string }

// encodeSegment packs docs (of one campaign object) into a segment.
func encodeSegment(docs []*Doc) []byte {
	b := []byte{segmentVersion}
	b = binary.AppendUvarint(b, uint64(len(docs)))
	cols := map[colKey]int{}
	var order []colKey
	var bodies [][]byte
	var counts []int
	for i, d := range docs {
		b = binary.AppendUvarint(b, uint64(d.Run))
		b = binary.AppendUvarint(b, uint64(d.Attempt))
		b = appendStr(b, d.Config)
		b = appendStr(b, d.Repetition)
		b = appendStr(b, d.Error)
		b = binary.AppendUvarint(b, uint64(d.Skipped))
		b = binary.AppendUvarint(b, uint64(len(d.Itervars)))
		for _, kv := range d.Itervars {
			b = appendStr(b, kv.Name)
			b = appendStr(b, kv.Value)
		}
		for _, v := range d.Values {
			k := colKey{v.Module, v.Name}
			c, ok := cols[k]
			if !ok {
				c = len(order)
				cols[k] = c
				order = append(order, k)
				bodies = append(bodies, nil)
				counts = append(counts, 0)
			}
			bodies[c] = binary.AppendUvarint(bodies[c], uint64(i))
			bodies[c] = binary.LittleEndian.AppendUint64(bodies[c], math.Float64bits(v.Value))
			counts[c]++
		}
	}
	b = binary.AppendUvarint(b, uint64(len(order)))
	for c, k := range order {
		b = appendStr(b, k.module)
		b = appendStr(b, k.name)
		b = binary.AppendUvarint(b, uint64(counts[c]))
		b = binary.AppendUvarint(b, uint64(len(bodies[c])))
		b = append(b, bodies[c]...)
	}
	return b
}

// segmentSize estimates what d adds to a segment (at most).
func segmentSize(d *Doc) int {
	n := 40 + len(d.Config) + len(d.Repetition) + len(d.Error)
	for _, kv := range d.Itervars {
		n += 10 + len(kv.Name) + len(kv.Value)
	}
	for _, v := range d.Values {
		n += 30 + len(v.Module) + len(v.Name)
	}
	return n
}

type segReader struct {
	b   []byte
	bad bool
}

func (r *segReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

// count reads a count that needs at least min bytes per item.
func (r *segReader) count(min int) int {
	v := r.uvarint()
	if v > uint64(len(r.b)/min) {
		r.bad = true
		r.b = nil
		return 0
	}
	return int(v)
}

func (r *segReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.bad = true
		r.b = nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *segReader) str() string { return string(r.bytes(r.uvarint())) }

// decodeSegment unpacks a segment of campaign object uid of campaign into
// its runs' documents, with the values of the columns keep accepts (nil:
// all); keep is asked once per column.
func decodeSegment(data []byte, campaign, uid string, keep func(module, name string) bool) ([]*Doc, error) {
	if len(data) < 1 || data[0] != segmentVersion {
		return nil, errSegment
	}
	r := &segReader{b: data[1:]}
	n := r.count(6)
	docs := make([]*Doc, n)
	for i := range docs {
		d := &Doc{Campaign: campaign, UID: uid, Values: Values{}}
		d.Run = int(r.uvarint())
		d.Attempt = int(r.uvarint())
		d.Config = r.str()
		d.Repetition = r.str()
		d.Error = r.str()
		d.Skipped = int(r.uvarint())
		d.Itervars = make([]KV, r.count(2))
		for j := range d.Itervars {
			d.Itervars[j] = KV{r.str(), r.str()}
		}
		if r.bad || d.Run < 0 || d.Run > math.MaxInt32 {
			return nil, errSegment
		}
		d.ID = runID(campaign, uid, d.Run)
		docs[i] = d
	}
	ncols := r.count(4)
	for range ncols {
		module, name := r.str(), r.str()
		count := r.uvarint()
		body := r.bytes(r.uvarint())
		if r.bad {
			return nil, errSegment
		}
		want := keep == nil || keep(module, name)
		br := &segReader{b: body}
		for range count {
			i := br.uvarint()
			bits := br.bytes(8)
			if br.bad || i >= uint64(n) {
				return nil, errSegment
			}
			docs[i].Indexed++
			if want {
				docs[i].Values = append(docs[i].Values, Value{module, name, math.Float64frombits(binary.LittleEndian.Uint64(bits))})
			}
		}
		if len(br.b) != 0 {
			return nil, errSegment
		}
	}
	if r.bad || len(r.b) != 0 {
		return nil, errSegment
	}
	return docs, nil
}
