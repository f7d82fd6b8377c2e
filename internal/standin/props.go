package standin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Plain turns a property map into plain JSON values: secrets unwrapped,
// unknowns and nulls dropped. The fake cloud, like a real one, knows nothing
// of Pulumi's secrets.
func Plain(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if p, ok := plainValue(v); ok {
			out[string(k)] = p
		}
	}
	return out
}

func plainValue(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsNull() || v.IsComputed():
		return nil, false
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsOutput():
		if !v.OutputValue().Known {
			return nil, false
		}
		return plainValue(v.OutputValue().Element)
	case v.IsArray():
		arr := []any{}
		for _, e := range v.ArrayValue() {
			if p, ok := plainValue(e); ok {
				arr = append(arr, p)
			}
		}
		return arr, true
	case v.IsObject():
		return Plain(v.ObjectValue()), true
	case v.IsString():
		return v.StringValue(), true
	case v.IsNumber():
		return v.NumberValue(), true
	case v.IsBool():
		return v.BoolValue(), true
	}
	return nil, false
}

// FromPlain turns plain JSON values back into a property map.
func FromPlain(m map[string]any) resource.PropertyMap {
	return resource.NewPropertyMapFromMap(m)
}

// Str reads a string from plain props.
func Str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// Bool reads a bool from plain props.
func Bool(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}

// Num reads a number from plain props.
func Num(m map[string]any, k string) float64 {
	f, _ := m[k].(float64)
	return f
}

// Strings reads a list of strings from plain props.
func Strings(m map[string]any, k string) []string {
	var out []string
	arr, _ := m[k].([]any)
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Copy is a shallow copy of plain props.
func Copy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SeededHex returns n hex digits derived from the engine's random seed and
// the URN: stable for one seed, different across resources. Without a seed
// it is random.
func SeededHex(seed []byte, urn string, n int) string {
	if len(seed) == 0 {
		return RandHex(n)
	}
	sum := sha256.Sum256(append(append([]byte{}, seed...), urn...))
	return hex.EncodeToString(sum[:])[:n]
}

// RandHex returns n random lower-case hex digits.
func RandHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// Autoname is an Autoname that gives an object without key (nor prefixKey,
// when not empty) Pulumi's "<name>-<7 hex>" name, and keeps the one it got
// before; lower lowercases it (RDS identifiers are lowercase).
func Autoname(key, prefixKey string, lower bool) func(urn resource.URN, olds, news resource.PropertyMap, seed []byte) resource.PropertyMap {
	k, pk := resource.PropertyKey(key), resource.PropertyKey(prefixKey)
	return func(urn resource.URN, olds, news resource.PropertyMap, seed []byte) resource.PropertyMap {
		if news.HasValue(k) || (prefixKey != "" && news.HasValue(pk)) {
			return news
		}
		if olds.HasValue(k) {
			news[k] = olds[k]
			return news
		}
		name := urn.Name()
		if lower {
			name = strings.ToLower(name)
		}
		news[k] = resource.NewStringProperty(name + "-" + SeededHex(seed, string(urn), 7))
		return news
	}
}
