package httpauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// MinTokenLength is the shortest API token a controller accepts.
const MinTokenLength = 16

// GenerateHint says how to make a good token, for error messages.
const GenerateHint = "generate one with: openssl rand -hex 32"

// CheckToken refuses an API token that is empty or shorter than
// MinTokenLength; source names where it came from (a flag or variable).
func CheckToken(tok, source string) error {
	if tok == "" {
		return fmt.Errorf("no API token: give %s (%s)", source, GenerateHint)
	}
	if n := len(tok); n < MinTokenLength {
		return fmt.Errorf("the API token from %s has %d characters, fewer than the minimum of %d (%s)", source, n, MinTokenLength, GenerateHint)
	}
	return nil
}

// Bearer returns the token of r's "Authorization: Bearer TOKEN" header.
// The scheme is matched in any case (RFC 7235 §2.1).
func Bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	return tok, tok != ""
}

// Token is the API token, kept as a digest for comparisons.
type Token struct {
	digest [sha256.Size]byte
	set    bool
}

// NewToken returns tok as a Token; an empty tok matches nothing.
func NewToken(tok string) Token {
	return Token{digest: sha256.Sum256([]byte(tok)), set: tok != ""}
}

// Equal reports whether got is the token, in constant time whatever the
// lengths.
func (t Token) Equal(got string) bool {
	gd := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(gd[:], t.digest[:]) == 1 && t.set
}
