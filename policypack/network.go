package policypack

import (
	"net/netip"
	"strconv"
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

// IsWorld reports exactly 0.0.0.0/0 or ::/0.
func IsWorld(cidr string) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	return err == nil && p.Bits() == 0
}

// allTraffic reports the "all protocols" forms.
func allTraffic(protocol string) bool {
	p := strings.ToLower(protocol)
	return p == "-1" || p == "all"
}

// coversPort reports whether a rule's protocol and port range include port.
func coversPort(protocol string, from, to float64, port int) bool {
	if allTraffic(protocol) {
		return true
	}
	p := strings.ToLower(protocol)
	if p != "tcp" && p != strconv.Itoa(6) {
		return false
	}
	if to == 0 {
		to = from
	}
	return int(from) <= port && port <= int(to)
}
