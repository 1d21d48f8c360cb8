// Package httpquery reads typed parameters from a request's query string,
// for the API and the dashboard alike.
//
//	limit, err := httpquery.Int(r, "limit", 500)
//	if err != nil { /* a 400: err names the parameter and its value */ }
//
// Guarantees: a missing or empty parameter gives the default, never an
// error; a malformed one an error naming the parameter and quoting its
// value ("limit=\"x\" is not an integer"), which the caller wraps with its
// own bad-request error.
package httpquery

import (
	"fmt"
	"net/http"
	"strconv"
)

// Int returns the integer parameter key of r, or def when it is absent.
func Int(r *http.Request, key string, def int) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not an integer", key, v)
	}
	return n, nil
}

// Bool returns the boolean parameter key of r (strconv.ParseBool), or
// false when it is absent.
func Bool(r *http.Request, key string) (bool, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q is not true or false", key, v)
	}
	return b, nil
}
