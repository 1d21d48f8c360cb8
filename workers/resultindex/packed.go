package resultindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Values are a run's values. In BSON they are one binary field, not an
// array of documents: FerretDB turns every BSON element of a document it
// reads into objects of its own and JSON, at about 1 ms per document of
// 21 subdocuments on the test machine, so that a table of 100,000 runs
// took 140 s to scan; one binary element per run costs a fraction of that.
//
// The encoding: a version byte (1), then per value uvarint(len(module)+1)
// and the module, or uvarint 0 for the previous value's module;
// uvarint(len(name)) and the name; the value's IEEE 754 bits, 8 bytes
// little-endian.
type Values []Value

const packedVersion = 1

// MarshalBSONValue packs vs into a BSON binary.
func (vs Values) MarshalBSONValue() (byte, []byte, error) {
	b := make([]byte, 5, 5+1+len(vs)*24)
	b[4] = 0 // generic binary subtype
	b = append(b, packedVersion)
	prev := "\x00" // no module is this
	for i, v := range vs {
		if i > 0 && v.Module == prev {
			b = binary.AppendUvarint(b, 0)
		} else {
			b = binary.AppendUvarint(b, uint64(len(v.Module))+1)
			b = append(b, v.Module...)
		}
		prev = v.Module
		b = binary.AppendUvarint(b, uint64(len(v.Name)))
		b = append(b, v.Name...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Value))
	}
	if len(b)-5 > math.MaxInt32 {
		return 0, nil, errors.New("values too large")
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-5))
	return byte(bson.TypeBinary), b, nil
}

var errPacked = errors.New("result index values: malformed packed binary")

// UnmarshalBSONValue reads what MarshalBSONValue wrote (and null as none).
func (vs *Values) UnmarshalBSONValue(typ byte, data []byte) error {
	if bson.Type(typ) == bson.TypeNull {
		*vs = nil
		return nil
	}
	if bson.Type(typ) != bson.TypeBinary || len(data) < 5 {
		return fmt.Errorf("result index values: BSON type %#x, want binary", typ)
	}
	n := binary.LittleEndian.Uint32(data)
	b := data[5:]
	if uint64(n) != uint64(len(b)) || len(b) < 1 || b[0] != packedVersion {
		return errPacked
	}
	b = b[1:]
	out := Values{}
	prev := ""
	str := func(l uint64) (string, bool) {
		if l > uint64(len(b)) {
			return "", false
		}
		s := string(b[:l])
		b = b[l:]
		return s, true
	}
	for len(b) > 0 {
		ml, k := binary.Uvarint(b)
		if k <= 0 {
			return errPacked
		}
		b = b[k:]
		m := prev
		if ml > 0 {
			var ok bool
			if m, ok = str(ml - 1); !ok {
				return errPacked
			}
		} else if len(out) == 0 {
			return errPacked
		}
		nl, k := binary.Uvarint(b)
		if k <= 0 {
			return errPacked
		}
		b = b[k:]
		name, ok := str(nl)
		if !ok || len(b) < 8 {
			return errPacked
		}
		out = append(out, Value{Module: m, Name: name, Value: math.Float64frombits(binary.LittleEndian.Uint64(b))})
		b = b[8:]
		prev = m
	}
	*vs = out
	return nil
}
