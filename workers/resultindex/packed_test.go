package resultindex

import (
	"math"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestPackedValuesRoundTrip(t *testing.T) {
	in := Doc{ID: "c/u/1", Values: Values{{"Net.a", "x", 1.5}, {"Net.a", "y:mean", math.Inf(-1)}, {"", "empty module", 0},
		{"", "again", -0.0}, {"Net.b", "", math.MaxFloat64}, {"Net.a", "ünï", 1e-300}}}
	raw, err := bson.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if typ := bson.Raw(raw).Lookup("values").Type; typ != bson.TypeBinary {
		t.Fatalf("values stored as %v, want one binary", typ)
	}
	var out Doc
	if err := bson.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Values, out.Values) {
		t.Errorf("round trip:\n%v\n%v", in.Values, out.Values)
	}
	nan := Doc{Values: Values{{"m", "n", math.NaN()}}}
	raw, _ = bson.Marshal(nan)
	if err := bson.Unmarshal(raw, &out); err != nil || len(out.Values) != 1 || !math.IsNaN(out.Values[0].Value) {
		t.Errorf("NaN: %v %v", out.Values, err)
	}
}

// FuzzUnpackValues: whatever the stored bytes, decoding gives values or
// an error, never a panic, and values re-encode to the same bytes.
func FuzzUnpackValues(f *testing.F) {
	_, good, _ := Values{{"Net.a", "x", 1}, {"Net.a", "y", 2}, {"Net.b", "z", 3}}.MarshalBSONValue()
	f.Add(good)
	f.Add([]byte{1, 0, 0, 0, 0, 1})
	f.Add([]byte{3, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var vs Values
		if err := vs.UnmarshalBSONValue(byte(bson.TypeBinary), data); err != nil {
			return
		}
		_, again, err := vs.MarshalBSONValue()
		if err != nil {
			t.Fatal(err)
		}
		var back Values
		if err := back.UnmarshalBSONValue(byte(bson.TypeBinary), again); err != nil || len(back) != len(vs) {
			t.Fatalf("re-encoded values do not decode: %v", err)
		}
	})
}
