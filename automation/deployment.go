package automation

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// A state export as reconcile reads and edits it: resources removed,
// adopted, pending operations resolved, and every reference checked.

// deployment is the part of an export reconcile reads and edits.
type deployment struct {
	raw       map[string]json.RawMessage
	resources []map[string]any
}

type resourceRef struct{ URN, Type string }

func parseDeployment(d apitype.UntypedDeployment) (*deployment, error) {
	if d.Version < 3 {
		return nil, fmt.Errorf("the export has version %d; deployer reads version 3 (pulumi stack export from CLI v3)", d.Version)
	}
	out := &deployment{}
	if err := json.Unmarshal(d.Deployment, &out.raw); err != nil {
		return nil, fmt.Errorf("the export is corrupt: %v", err)
	}
	if _, ok := out.raw["manifest"]; !ok {
		return nil, fmt.Errorf("the export has no manifest: not a state export (or hand-edited beyond repair)")
	}
	if res, ok := out.raw["resources"]; ok {
		if err := json.Unmarshal(res, &out.resources); err != nil {
			return nil, fmt.Errorf("the export's resources are corrupt: %v", err)
		}
	}
	return out, out.validate()
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// validate checks that every resource names a URN and type and that every
// reference (parent, dependency, property dependency, provider) points at a
// resource that is still there.
func (d *deployment) validate() error {
	urns := map[string]bool{}
	for i, r := range d.resources {
		u, t := str(r, "urn"), str(r, "type")
		if u == "" || t == "" {
			return fmt.Errorf("resource #%d has no urn or type: the export was edited by hand or is corrupt", i)
		}
		if urns[u] && !boolField(r, "delete") {
			return fmt.Errorf("resource %s appears twice", u)
		}
		urns[u] = true
	}
	var problems []string
	for _, r := range d.resources {
		for _, ref := range refs(r) {
			if !urns[ref] {
				problems = append(problems, fmt.Sprintf("%s still depends on %s", str(r, "urn"), ref))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("dangling references:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func boolField(m map[string]any, k string) bool { b, _ := m[k].(bool); return b }

// refs lists the URNs a resource refers to.
func refs(r map[string]any) []string {
	var out []string
	if p := str(r, "parent"); p != "" {
		out = append(out, p)
	}
	if deps, ok := r["dependencies"].([]any); ok {
		for _, d := range deps {
			if s, ok := d.(string); ok {
				out = append(out, s)
			}
		}
	}
	if pd, ok := r["propertyDependencies"].(map[string]any); ok {
		for _, list := range pd {
			if l, ok := list.([]any); ok {
				for _, d := range l {
					if s, ok := d.(string); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	if p := providerURN(str(r, "provider")); p != "" {
		out = append(out, p)
	}
	return out
}

// remove drops resources matching URNs or IDs, refusing when a remaining
// resource depends on one of them.
func (d *deployment) remove(targets []string) ([]resourceRef, error) {
	want := map[string]bool{}
	for _, t := range targets {
		want[t] = true
	}
	var kept []map[string]any
	var removed []resourceRef
	gone := map[string]bool{}
	for _, r := range d.resources {
		if want[str(r, "urn")] || (str(r, "id") != "" && want[str(r, "id")]) {
			removed = append(removed, resourceRef{URN: str(r, "urn"), Type: str(r, "type")})
			gone[str(r, "urn")] = true
			continue
		}
		kept = append(kept, r)
	}
	for t := range want {
		found := false
		for _, r := range removed {
			found = found || r.URN == t
		}
		for _, r := range d.resources {
			found = found || str(r, "id") == t
		}
		if !found {
			return nil, fmt.Errorf("%q is neither a URN nor a cloud ID in the stack's state", t)
		}
	}
	var dependents []string
	for _, r := range kept {
		for _, ref := range refs(r) {
			if gone[ref] {
				dependents = append(dependents, fmt.Sprintf("%s depends on %s", str(r, "urn"), ref))
			}
		}
	}
	if len(dependents) > 0 {
		sort.Strings(dependents)
		return nil, fmt.Errorf("refused: resources left in the state still depend on what would be removed (remove them too, or change the program first):\n  %s", strings.Join(dependents, "\n  "))
	}
	d.resources = kept
	return removed, nil
}

func (d *deployment) untyped(orig apitype.UntypedDeployment) (apitype.UntypedDeployment, error) {
	res, err := json.Marshal(d.resources)
	if err != nil {
		return orig, err
	}
	d.raw["resources"] = res
	b, err := json.Marshal(d.raw)
	if err != nil {
		return orig, err
	}
	return apitype.UntypedDeployment{Version: orig.Version, Deployment: b}, nil
}

// adopt adds a state entry for a resource the program declares at urn and
// that exists in the cloud as id: its parent and provider come from the URN
// and the state.
func (d *deployment) adopt(urn, id string) error {
	u := resource.URN(urn)
	if !u.IsValid() {
		return fmt.Errorf("--adopt %q: not a URN (urn:pulumi:<stack>::<project>::<type chain>::<name>)", urn)
	}
	pkg := string(u.Type().Package())
	var provider, stackURN string
	for _, r := range d.resources {
		if str(r, "urn") == urn {
			return fmt.Errorf("--adopt %s: the state already holds it", urn)
		}
		if str(r, "type") == "pulumi:pulumi:Stack" {
			stackURN = str(r, "urn")
		}
		if p := str(r, "provider"); provider == "" && urnType(providerURN(p)) == "pulumi:providers:"+pkg {
			provider = p
		}
	}
	if provider == "" {
		return fmt.Errorf("--adopt %s: no %s provider in the state to read it with", urn, pkg)
	}
	d.resources = append(d.resources, map[string]any{
		"urn": urn, "custom": true, "id": id, "type": string(u.Type()), "parent": d.parentOf(u, stackURN), "provider": provider,
		"inputs": map[string]any{}, "outputs": map[string]any{},
	})
	return nil
}

// parentOf is the resource in the state whose type is the one before u's
// own in its type chain, in u's stack and project; stackURN for a resource
// at the top.
func (d *deployment) parentOf(u resource.URN, stackURN string) string {
	chain := strings.Split(string(u.QualifiedType()), "$")
	if len(chain) < 2 {
		return stackURN
	}
	parentType := chain[len(chain)-2]
	parent := stackURN
	for _, r := range d.resources {
		pu := resource.URN(str(r, "urn"))
		if pu.IsValid() && string(pu.Type()) == parentType && pu.Stack() == u.Stack() && pu.Project() == u.Project() {
			parent = string(pu)
		}
	}
	return parent
}

// providerURN is the URN in a provider reference (URN::ID).
func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i > 0 {
		return ref[:i]
	}
	return ""
}

// pending reads the export's pending operations.
func (d *deployment) pending() []map[string]any {
	var ops []map[string]any
	if raw, ok := d.raw["pending_operations"]; ok {
		_ = json.Unmarshal(raw, &ops)
	}
	return ops
}

// resolvePending adds the pending creates with a known ID to the resources
// and drops every pending operation.
func (d *deployment) resolvePending(ids map[string]string) ([]ResourceChange, []string) {
	var changes []ResourceChange
	var imported []string
	for _, op := range d.pending() {
		res, _ := op["resource"].(map[string]any)
		if res == nil {
			continue
		}
		urn, typ, kind := str(res, "urn"), str(res, "type"), str(op, "type")
		if id, ok := ids[urn]; ok && kind == "creating" {
			res["id"] = id
			d.resources = append(d.resources, res)
			imported = append(imported, urn)
			changes = append(changes, ResourceChange{URN: urn, Type: typ, Name: urnName(urn), ID: id, Kind: "pending-create-imported"})
			continue
		}
		changes = append(changes, ResourceChange{URN: urn, Type: typ, Name: urnName(urn), Kind: "pending-" + kind + "-dropped"})
	}
	d.raw["pending_operations"] = json.RawMessage("[]")
	return changes, imported
}
