// Package httpauth holds what the controller's HTTP API and its dashboard
// share to authenticate clients: reading a bearer token, comparing it with
// the API token, naming the client's address, and slowing down whoever
// guesses tokens.
//
// Bearer reads "Authorization: Bearer TOKEN" with the scheme in any case
// (RFC 7235: auth schemes are case-insensitive). Token compares presented
// tokens with the API token in constant time (on SHA-256 digests, so the
// lengths leak nothing either). CheckToken refuses API tokens shorter than
// MinTokenLength.
//
// Limiter counts failed attempts (a wrong bearer token, a wrong login)
// per client address in a leaky bucket: Max failures at once, draining at
// Max per Window. An address whose bucket is full is refused (429, with
// Retry-After) before its token is even looked at, so guessing runs at
// most Max per Window per address; every other address, and so the owner
// with the right token, is unaffected. One Limiter is shared by the API,
// the login and /metrics of a controller, so that they form one budget.
// Memory is bounded: at most MaxTracked addresses are held, an address is
// forgotten once its bucket has drained, and when the table is full the
// emptiest of a few sampled buckets makes room. IPv6 clients are counted
// per /64, the block one host usually holds. The limit is per controller
// process (each instance of a stack counts on its own).
//
// The client address is the host of the connection's RemoteAddr.
// X-Forwarded-For is believed only when the connection comes from one of
// Limiter.TrustedProxies (the controller's --trusted-proxies), and then
// its rightmost address not itself a trusted proxy is the client: a client
// cannot pick its own address by sending the header.
//
// Use:
//
//	lim := &httpauth.Limiter{Now: clock}        // zero values: 20 per minute, 10000 addresses
//	tok := httpauth.NewToken(apiToken)
//	if wait, ok := lim.Allow(r); !ok { 429, Retry-After: wait }
//	if got, ok := httpauth.Bearer(r); ok && !tok.Equal(got) { lim.Fail(r); 401 }
package httpauth
