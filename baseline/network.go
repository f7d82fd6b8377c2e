package baseline

import (
	"net/netip"
	"strings"
)

// Shortest prefixes that do not span public address space: anything shorter
// (0.0.0.0/1 and 128.0.0.0/1 together are the whole internet) counts as open
// to the internet.
const (
	MinIPv4Prefix = 8
	MinIPv6Prefix = 16
)

// OpensToInternet reports whether cidr is the internet or as good as it:
// 0.0.0.0/0, ::/0, or any prefix shorter than /8 (IPv4) or /16 (IPv6). An
// unparsable CIDR reports false (the components refuse it separately).
func OpensToInternet(cidr string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return false
	}
	if p.Addr().Is4() {
		return p.Bits() < MinIPv4Prefix
	}
	return p.Bits() < MinIPv6Prefix
}

// privateRanges are the address ranges the internet cannot reach: RFC 1918,
// shared address space (RFC 6598), loopback, link-local, unique local IPv6.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("fe80::/10"), netip.MustParsePrefix("::1/128"),
}

// Public reports whether cidr holds public (internet-routable) addresses:
// it is not wholly inside a private range. Trivy's AWS-0107 and AWS-0104
// judge "public" the same way. An unparsable CIDR reports false.
func Public(cidr string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return false
	}
	p = p.Masked()
	for _, r := range privateRanges {
		if p.Addr().Is4() == r.Addr().Is4() && p.Bits() >= r.Bits() && r.Contains(p.Addr()) {
			return false
		}
	}
	return true
}

// IsWorld reports exactly 0.0.0.0/0 or ::/0.
func IsWorld(cidr string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	return err == nil && p.Bits() == 0
}
