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
