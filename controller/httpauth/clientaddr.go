package httpauth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr is the address r comes from: the host of its RemoteAddr,
// or, when that is one of trusted, the rightmost X-Forwarded-For address
// that is not (each proxy appends the address it was reached from, so
// everything left of the last trusted hop may be made up by the client).
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	a := remoteAddr(r.RemoteAddr)
	if !a.IsValid() || !in(a, trusted) {
		return a
	}
	hops := r.Header.Values("X-Forwarded-For")
	var list []string
	for _, h := range hops {
		list = append(list, strings.Split(h, ",")...)
	}
	for i := len(list) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(list[i]))
		if err != nil {
			// A hop we cannot read: stop at the last one we can trust.
			return a
		}
		h = h.Unmap()
		if !in(h, trusted) {
			return h
		}
		a = h
	}
	return a
}

func remoteAddr(s string) netip.Addr {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

func in(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or single
// addresses (a --trusted-proxies value).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
