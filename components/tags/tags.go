// Package tags builds the tag set every AWS resource of the platform carries:
// Environment, ManagedBy and CostCenter, merged with the caller's own tags.
package tags

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/baseline"
)

// ManagedBy is the value of the ManagedBy tag.
const ManagedBy = "deployer"

// Required are the tag keys every resource must carry.
var Required = []string{"Environment", "ManagedBy", "CostCenter"}

// Set is the required tags plus the caller's extra ones.
type Set struct {
	// Environment, e.g. "dev" or "prod". Required.
	Environment string
	// CostCenter charged for the resources. Required.
	CostCenter string
	// Extra tags, merged in; they cannot override the required ones.
	Extra map[string]string
}

// Validate reports a missing required tag or an extra tag that tries to
// override one; field names the Args field for the message.
func (s Set) Validate(field string) error {
	if strings.TrimSpace(s.Environment) == "" {
		return fmt.Errorf("%s.Environment is empty: every resource is tagged with its environment (e.g. \"prod\")", field)
	}
	if strings.TrimSpace(s.CostCenter) == "" {
		return fmt.Errorf("%s.CostCenter is empty: every resource is tagged with the cost center that pays for it", field)
	}
	for _, k := range append(append([]string{}, Required...), baseline.ExemptTag) {
		if _, ok := s.Extra[k]; ok {
			return fmt.Errorf("%s.Extra sets %q, which the component manages; remove it", field, k)
		}
	}
	return nil
}

// Map returns the merged tags; exempt rule ids (if any) go into the
// deployer:exempt tag, sorted.
func (s Set) Map(exempt []string) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range s.Extra {
		m[k] = pulumi.String(v)
	}
	m["Environment"] = pulumi.String(s.Environment)
	m["ManagedBy"] = pulumi.String(ManagedBy)
	m["CostCenter"] = pulumi.String(s.CostCenter)
	if len(exempt) > 0 {
		ids := append([]string{}, exempt...)
		sort.Strings(ids)
		m[baseline.ExemptTag] = pulumi.String(strings.Join(ids, " "))
	}
	return m
}
