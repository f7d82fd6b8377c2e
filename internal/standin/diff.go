package standin

import (
	"context"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Check and Diff: defaults, and which changes replace a resource and which
// update it in place (the real provider's force-new rules, per type).

// Check applies the type's autonaming and schema defaults.
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	if t.Autoname != nil {
		news = t.Autoname(urn, olds, news, req.GetRandomSeed())
	}
	for k, v := range t.Defaults {
		if cur, ok := news[resource.PropertyKey(k)]; !ok || cur.IsNull() {
			news[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	out, err := marshal(news)
	return &pulumirpc.CheckResponse{Inputs: out}, err
}

// Diff compares the new inputs with the old ones; ForceNew and ReplaceIf
// decide replacement. A refresh calls it too (with the live values as olds),
// so it is how drift shows.
func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	urn := resource.URN(req.GetUrn())
	t, err := p.typ(string(urn.Type()))
	if err != nil {
		return nil, err
	}
	olds, news, err := diffInputs(req)
	if err != nil {
		return nil, err
	}
	if err := diffOutputs(t, req, olds, news); err != nil {
		return nil, err
	}
	ignore := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignore[k] = true
	}
	forceNew := map[string]bool{}
	for _, k := range t.ForceNew {
		forceNew[k] = true
	}
	if t.ReplaceIf != nil {
		for _, k := range t.ReplaceIf(Plain(olds), Plain(news)) {
			forceNew[k] = true
		}
	}
	resp := &pulumirpc.DiffResponse{DetailedDiff: map[string]*pulumirpc.PropertyDiff{}, HasDetailedDiff: true}
	po, pn := Plain(olds), Plain(news)
	for _, k := range changedKeys(olds, news) {
		if ignore[k] || (t.Same != nil && t.Same(k, po, pn)) {
			continue
		}
		o, n := olds[resource.PropertyKey(k)], news[resource.PropertyKey(k)]
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case isNull(o):
			kind = pulumirpc.PropertyDiff_ADD
		case isNull(n):
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if forceNew[k] {
			resp.Replaces = append(resp.Replaces, k)
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
		}
		resp.Diffs = append(resp.Diffs, k)
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
		resp.DeleteBeforeReplace = len(resp.Replaces) > 0 && t.DeleteBeforeReplace
	} else {
		resp.Changes = pulumirpc.DiffResponse_DIFF_NONE
	}
	return resp, nil
}

// diffInputs reads a diff request's old inputs (the old state where a state
// has none) and new inputs.
func diffInputs(req *pulumirpc.DiffRequest) (olds, news resource.PropertyMap, err error) {
	if olds, err = unmarshal(req.GetOldInputs()); err != nil {
		return nil, nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, nil, err
		}
	}
	news, err = unmarshal(req.GetNews())
	return olds, news, err
}

// diffOutputs puts the prior outputs of the type's DiffOutputs keys in olds,
// for the keys the program sets.
func diffOutputs(t *Type, req *pulumirpc.DiffRequest, olds, news resource.PropertyMap) error {
	if len(t.DiffOutputs) == 0 {
		return nil
	}
	outs, err := unmarshal(req.GetOlds())
	if err != nil {
		return err
	}
	for _, k := range t.DiffOutputs {
		key := resource.PropertyKey(k)
		if v, ok := outs[key]; ok && news.HasValue(key) {
			olds[key] = v
		}
	}
	return nil
}

// changedKeys lists, sorted, the keys whose value differs between olds and
// news (engine-internal "__" keys left out).
func changedKeys(olds, news resource.PropertyMap) []string {
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if !strings.HasPrefix(string(k), "__") && changed(olds[k], news[k]) {
			out = append(out, string(k))
		}
	}
	sort.Strings(out)
	return out
}

func isNull(v resource.PropertyValue) bool {
	if v.IsSecret() {
		return isNull(v.SecretValue().Element)
	}
	return v.IsNull() || (v.IsArray() && len(v.ArrayValue()) == 0) || (v.IsObject() && len(v.ObjectValue()) == 0)
}

// isZero is a number 0 or false: the SDK's empty value for an optional
// scalar, which the bridge does not report as a set input.
func isZero(v resource.PropertyValue) bool {
	return (v.IsNumber() && v.NumberValue() == 0) || (v.IsBool() && !v.BoolValue())
}

func changed(o, n resource.PropertyValue) bool {
	if n.ContainsUnknowns() {
		return true
	}
	if isNull(o) && isNull(n) {
		return false
	}
	po, _ := plainValue(o)
	pn, _ := plainValue(n)
	return !reflect.DeepEqual(dropZeroFields(po), dropZeroFields(pn))
}

// dropZeroFields removes, inside lists and nested objects, fields holding a
// zero value ("", false, 0, an empty list or object): a nested Optional
// attribute the program leaves out is its zero value in the provider's state
// (helper/schema reads unset nested attributes as zero values), so the
// absent and the zero value are the same thing to the provider.
func dropZeroFields(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = dropZeroNested(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			out[k] = dropZeroFields(e)
		}
		return out
	}
	return v
}

func dropZeroNested(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return dropZeroFields(v)
	}
	out := map[string]any{}
	for k, e := range m {
		switch z := e.(type) {
		case nil:
			continue
		case string:
			if z == "" {
				continue
			}
		case bool:
			if !z {
				continue
			}
		case float64:
			if z == 0 {
				continue
			}
		case []any:
			if len(z) == 0 {
				continue
			}
		case map[string]any:
			if len(z) == 0 {
				continue
			}
		}
		out[k] = dropZeroNested(e)
	}
	return out
}

// annotate marks as secret every output whose input was secret, and the
// type's secret outputs.
func annotate(t *Type, out resource.PropertyMap, ins ...resource.PropertyMap) resource.PropertyMap {
	for _, in := range ins {
		for k, v := range in {
			if v.ContainsSecrets() {
				if o, ok := out[k]; ok && !o.IsSecret() {
					out[k] = resource.MakeSecret(o)
				}
			}
		}
	}
	for _, k := range t.SecretOutputs {
		if o, ok := out[resource.PropertyKey(k)]; ok && !o.IsSecret() {
			out[resource.PropertyKey(k)] = resource.MakeSecret(o)
		}
	}
	return out
}
