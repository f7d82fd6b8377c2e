package automation

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// urnType is a URN's resource type (the last of its type chain), or "" for
// a string that is not a URN.
func urnType(urn string) string {
	u := resource.URN(urn)
	if !u.IsValid() {
		return ""
	}
	return string(u.Type())
}

// ResourceName is a URN's resource name (which may itself hold "::"); for
// the report's own entries that are not URNs ("database::gis"), the part
// after the last "::".
func ResourceName(urn string) string { return urnName(urn) }

func urnName(urn string) string {
	u := resource.URN(urn)
	if u.IsValid() {
		return u.Name()
	}
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+len("::"):]
	}
	return urn
}
