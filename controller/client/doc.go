// Package client is the Go client of the controller's HTTP API (package
// apiserver), used by the CLI and the tests. It depends on the API's
// types only (packages api, api/wire and api/schema), not on the server.
//
//	c := client.New("http://127.0.0.1:8080", token)
//	out, err := c.Apply(ctx, campaign)
//	st, err := c.PullResults(ctx, "aloha", "results", 4)
//
// Error responses come back as *client.APIError with the HTTP status code
// and the server's wire.Status (reason, message, field-path causes);
// IsTransient tells those worth retrying.
//
// # Pulling results
//
// PullResults (and PullKeptResults, for the results a deleted campaign
// kept) writes a campaign's stored result files below a directory as
// opp_runall would have left them. It guarantees:
//
//   - a file already present with the listed sha256 is not downloaded
//     again, so an interrupted pull resumes;
//   - a file appears under its name only complete and verified: it is
//     written to a temporary file beside it, checked against the listed
//     sha256 and renamed;
//   - a name from the server is hostile: only a relative path of plain file
//     names (resultfiles.SafePath, the rule the runner and the local
//     executor store by) is written; anything else is refused, named in
//     the error, and nothing is written for it;
//   - a batch download writes only the files asked for, at their listed
//     sizes;
//   - every failed file is in the returned error (errors.Join); the others
//     are still pulled.
package client
