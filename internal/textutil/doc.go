// Package textutil shortens and phrases text for people: the pieces of
// error messages, conditions and logs that many packages build.
//
//	textutil.Truncate(value, 80)      // `aaaa…` cut at 80 bytes, then "..."
//	textutil.Prefix(uid, 8)           // the first 8 bytes, for an id in a name
//	textutil.LastLines(stderr, 5)     // the last 5 lines, for an error message
//	textutil.Plural(n, "run")         // "1 run", "3 runs"
//
// Guarantees: every function is pure and total (any input, no panic);
// Truncate never returns invalid UTF-8 because of its cut (a rune cut in
// two is dropped), so a quoted value in a message stays readable.
package textutil
