// Package client is the Go client of the controller's HTTP API (package
// apiserver), used by the CLI and the tests. It depends on the API's
// types only (packages api, api/wire and api/schema), not on the server.
//
//	c := client.New("http://127.0.0.1:8080", token)
//	out, err := c.Apply(ctx, campaign)
//
// Error responses come back as *client.APIError with the HTTP status code
// and the server's wire.Status (reason, message, field-path causes).
package client
