package api

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/simswarm/simswarm/internal/textutil"
)

// The strict decoder walks the generic form of a document (what
// encoding/json gives for `any`, with json.Number) against the Go types
// the document will decode into, so that every unknown field and wrongly
// typed value is reported with its full path. json.Decoder's
// DisallowUnknownFields reports neither the path nor more than one problem,
// and it matches field names case-insensitively.

var campaignType = reflect.TypeFor[Campaign]()

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

type walker struct {
	errs []FieldError
}

// maxDecodeErrors keeps a hostile document from producing a huge report.
const maxDecodeErrors = 50

func (w *walker) add(path, detail string, v any) {
	if len(w.errs) == maxDecodeErrors {
		w.errs = append(w.errs, FieldError{Detail: "too many errors; stopping"})
	}
	if len(w.errs) > maxDecodeErrors {
		return
	}
	w.errs = append(w.errs, FieldError{Path: path, Value: shortValue(v), Detail: detail})
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// walk checks v against type t at path.
func (w *walker) walk(t reflect.Type, v any, path string) {
	if v == nil {
		return // null is accepted for every field and leaves it unset
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType) {
		w.unmarshaler(t, v, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(t.Elem(), v, path)
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			w.add(path, "expected a mapping of fields, got "+describe(v), v)
			return
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				w.add(join(path, k), unknownFieldDetail(k, fields), nil)
				continue
			}
			w.walk(ft, obj[k], join(path, k))
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			w.add(path, "expected a mapping, got "+describe(v), v)
			return
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.walk(t.Elem(), obj[k], path+"["+k+"]")
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			w.add(path, "expected a list, got "+describe(v), v)
			return
		}
		for i, e := range list {
			w.walk(t.Elem(), e, path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			w.add(path, "expected a string, got "+describe(v)+" (quote it)", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			w.add(path, "expected true or false, got "+describe(v), v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			w.add(path, "expected an integer, got "+describe(v), v)
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			if strings.ContainsAny(n.String(), ".eE") {
				w.add(path, "expected an integer, got "+n.String(), v)
			} else {
				w.add(path, n.String()+" is out of range", v)
			}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			w.add(path, "expected a non-negative integer, got "+describe(v), v)
			return
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			w.add(path, fmt.Sprintf("expected a non-negative integer in range, got %s", n), v)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			w.add(path, "expected a number, got "+describe(v), v)
			return
		}
		f, err := strconv.ParseFloat(n.String(), t.Bits())
		if err != nil || math.IsInf(f, 0) {
			w.add(path, fmt.Sprintf("%s is out of range", n), v)
		}
	case reflect.Interface:
		// anything goes
	default:
		w.add(path, "field of unsupported type "+t.String(), v)
	}
}

// unmarshaler checks a value of a type with its own UnmarshalJSON (Duration,
// time.Time) by running it.
func (w *walker) unmarshaler(t reflect.Type, v any, path string) {
	b, err := json.Marshal(v)
	if err != nil {
		w.add(path, "cannot be encoded: "+err.Error(), v)
		return
	}
	p := reflect.New(t).Interface().(json.Unmarshaler)
	if err := p.UnmarshalJSON(b); err != nil {
		w.add(path, err.Error(), v)
		return
	}
	// 0s would otherwise be taken for "left out" and silently defaulted
	// (negative ones are Validate's: they cannot be mistaken for unset).
	if d, ok := p.(*Duration); ok && d.Duration == 0 {
		w.add(path, "0s is not a positive duration (leave the field out for its default)", v)
	}
}

// jsonFields maps the JSON names of t's fields to their types, following
// encoding/json's rules for embedded structs (TypeMeta with ",inline").
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, dup := out[k]; !dup {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// unknownFieldDetail suggests the closest known field name.
func unknownFieldDetail(k string, fields map[string]reflect.Type) string {
	best, bestDist := "", 1<<30
	for name := range fields {
		d := editDistance(strings.ToLower(k), strings.ToLower(name))
		if d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	limit := 2
	if len(k) <= 3 {
		limit = 1
	}
	if best != "" && bestDist <= limit {
		return fmt.Sprintf("unknown field (did you mean %q?)", best)
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return "unknown field (known fields: " + strings.Join(names, ", ") + ")"
}

// editDistance is the Levenshtein distance of two short strings (field
// names; an over-long key is not worth comparing).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names a generic value's kind for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string " + strconv.Quote(textutil.Truncate(x, 40))
	case json.Number:
		return "number " + textutil.Truncate(x.String(), 40)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func shortValue(v any) string {
	switch x := v.(type) {
	case string:
		return textutil.Truncate(x, 100)
	case json.Number:
		return textutil.Truncate(x.String(), 100)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
