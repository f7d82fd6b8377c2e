package provider

import (
	"encoding/json"
	"fmt"
)

// inputElements lets the elements of every array and map input that takes
// outputs take outputs too: infer marks the elements of a
// pulumi.StringArrayInput plain, so TypeScript would refuse
// securityGroupIds: [group.securityGroupId]; the Go side
// (pulumi.StringArrayInput) takes either.
func inputElements(raw string) (string, error) {
	var spec map[string]any
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return "", fmt.Errorf("read the inferred schema: %w", err)
	}
	for _, section := range []string{"resources", "types"} {
		objs, _ := spec[section].(map[string]any)
		for _, o := range objs {
			obj, _ := o.(map[string]any)
			for _, key := range []string{"inputProperties", "properties"} {
				if section == "resources" && key == "properties" {
					continue // outputs
				}
				props, _ := obj[key].(map[string]any)
				for _, prop := range props {
					unplainElements(prop)
				}
			}
		}
	}
	out, err := json.Marshal(spec)
	return string(out), err
}

// unplainElements drops "plain" from the elements of a property that is
// not plain itself.
func unplainElements(prop any) {
	m, _ := prop.(map[string]any)
	if plain, _ := m["plain"].(bool); plain {
		return
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if el, ok := m[k].(map[string]any); ok {
			delete(el, "plain")
		}
	}
}
