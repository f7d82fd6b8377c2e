package provider

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// objectTypes are the schema's object types by the input type standing for
// them (TestSchemaTypesAreKnown holds the list complete).
var objectTypes = map[reflect.Type]string{
	reflect.TypeFor[Tags]():           "postgis:index:Tags",
	reflect.TypeFor[RuleSpec]():       "postgis:securitygroup:RuleSpec",
	reflect.TypeFor[Role]():           "postgis:dbroles:Role",
	reflect.TypeFor[RoleAttributes](): "postgis:dbroles:RoleAttributes",
	reflect.TypeFor[Connection]():     "postgis:utilitydb:Connection",
	reflect.TypeFor[Names]():          "postgis:utilitydb:Names",
}

var inputType = reflect.TypeFor[pulumi.Input]()

// plainInputs makes the schema say which inputs take outputs: exactly those
// whose Go field is a pulumi input (pulumi.StringInput, …), with their
// elements (infer marks the elements of a pulumi.StringArrayInput plain, and
// leaves the fields of object types unmarked). Every other input is plain,
// so the SDKs take only a value there (TypeScript refuses an Output at
// compile time) instead of failing at deployment.
func plainInputs(raw string, comps []component) (string, error) {
	var spec map[string]any
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return "", fmt.Errorf("read the inferred schema: %w", err)
	}
	resources, _ := spec["resources"].(map[string]any)
	for _, c := range comps {
		res, _ := resources[c.token].(map[string]any)
		props, _ := res["inputProperties"].(map[string]any)
		markPlain(props, reflect.TypeOf(c.inputs()).Elem())
	}
	types, _ := spec["types"].(map[string]any)
	for t, token := range objectTypes {
		obj, _ := types[token].(map[string]any)
		props, _ := obj["properties"].(map[string]any)
		markPlain(props, t)
	}
	out, err := json.Marshal(spec)
	return string(out), err
}

// markPlain marks each property of props plain, or not, by its field in t.
func markPlain(props map[string]any, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := tagName(f)
		prop, _ := props[name].(map[string]any)
		if !ok || prop == nil {
			continue
		}
		input := f.Type.Implements(inputType)
		if input {
			delete(prop, "plain")
		} else {
			prop["plain"] = true
		}
		for _, k := range []string{"items", "additionalProperties"} {
			if el, ok := prop[k].(map[string]any); ok {
				if _, ref := el["$ref"]; ref || input {
					delete(el, "plain")
				} else {
					el["plain"] = true
				}
			}
		}
	}
}
