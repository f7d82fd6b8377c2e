package policypack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
)

// value is a property looked up for a rule: absent, unknown (computed at
// apply time), or known.
type value struct {
	v       resource.PropertyValue
	present bool
	unknown bool
	secret  bool
}

// get walks a path of object keys; unknowns and secrets anywhere on the way
// are remembered, the value returned unwrapped.
func get(m resource.PropertyMap, path ...string) value {
	cur := resource.NewObjectProperty(m)
	out := value{}
	for _, k := range path {
		cur, out = unwrap(cur, out)
		if out.unknown {
			return out
		}
		if !cur.IsObject() {
			return value{}
		}
		next, ok := cur.ObjectValue()[resource.PropertyKey(k)]
		if !ok || next.IsNull() {
			return value{unknown: false}
		}
		cur = next
	}
	cur, out = unwrap(cur, out)
	out.v, out.present = cur, !cur.IsNull() || out.unknown
	return out
}

func unwrap(v resource.PropertyValue, st value) (resource.PropertyValue, value) {
	for {
		switch {
		case v.IsComputed():
			st.unknown = true
			return v, st
		case v.IsSecret():
			st.secret = true
			v = v.SecretValue().Element
		case v.IsOutput():
			o := v.OutputValue()
			if !o.Known {
				st.unknown = true
				return v, st
			}
			st.secret = st.secret || o.Secret
			v = o.Element
		default:
			return v, st
		}
	}
}

func (v value) str() string {
	if v.present && !v.unknown && v.v.IsString() {
		return v.v.StringValue()
	}
	return ""
}

func (v value) num() float64 {
	if v.present && !v.unknown && v.v.IsNumber() {
		return v.v.NumberValue()
	}
	return 0
}

// isTrue reports a known boolean true.
func (v value) isTrue() bool { return v.present && !v.unknown && v.v.IsBool() && v.v.BoolValue() }

func (v value) list() []value {
	if !v.present || v.unknown || !v.v.IsArray() {
		return nil
	}
	var out []value
	for _, e := range v.v.ArrayValue() {
		u, st := unwrap(e, value{})
		st.v, st.present = u, !u.IsNull() || st.unknown
		out = append(out, st)
	}
	return out
}

func (v value) strings() []string {
	var out []string
	for _, e := range v.list() {
		if s := e.str(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// anyUnknown reports whether the value or anything inside it is unknown.
func (v value) anyUnknown() bool {
	if v.unknown {
		return true
	}
	return v.present && v.v.ContainsUnknowns()
}

// FromJSON converts the property maps of engine events and exported state
// (plain JSON, with the engine's markers for unknown values and secrets) into
// a PropertyMap the rules read.
func FromJSON(m map[string]any) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[resource.PropertyKey(k)] = fromJSONValue(v)
	}
	return out
}

func fromJSONValue(v any) resource.PropertyValue {
	switch t := v.(type) {
	case nil:
		return resource.NewNullProperty()
	case bool:
		return resource.NewBoolProperty(t)
	case float64:
		return resource.NewNumberProperty(t)
	case int:
		return resource.NewNumberProperty(float64(t))
	case string:
		if t == plugin.UnknownStringValue {
			return resource.MakeComputed(resource.NewStringProperty(""))
		}
		if t == "[secret]" { // how the event stream masks a secret
			return resource.MakeSecret(resource.NewStringProperty(t))
		}
		return resource.NewStringProperty(t)
	case []any:
		arr := make([]resource.PropertyValue, len(t))
		for i, e := range t {
			arr[i] = fromJSONValue(e)
		}
		return resource.NewArrayProperty(arr)
	case map[string]any:
		if t[sig.Key] == sig.Secret {
			if inner, ok := t["value"]; ok {
				return resource.MakeSecret(fromJSONValue(inner))
			}
			// The plaintext is not shown (an encrypted "ciphertext"): still a secret.
			return resource.MakeSecret(resource.NewStringProperty("[secret]"))
		}
		return resource.NewObjectProperty(FromJSON(t))
	}
	return resource.NewNullProperty()
}
