package policypack

import (
	"strconv"
	"strings"
)

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
