package automation

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/policypack"
)

// deferredRDS are the DB instance settings RDS keeps pending until the
// maintenance window when applyImmediately is off (ModifyDBInstance's
// ApplyImmediately; DescribeDBInstances' PendingModifiedValues). The
// provider reads the running value meanwhile, so the stack's state holds the
// asked value as input and the running one as output.
var deferredRDS = map[string]bool{
	"instanceClass": true, "allocatedStorage": true, "storageType": true, "iops": true, "storageThroughput": true,
	"multiAz": true, "engineVersion": true, "caCertIdentifier": true,
	// The new family's parameter group waits with a major upgrade.
	"parameterGroupName": true,
}

// pendingSet maps a resource URN to its pending properties and the value
// each was asked to take.
type pendingSet map[string]map[string]any

// splitPending parts a refresh step's changed paths into modifications the
// cloud keeps pending and drift. A path is pending when it is a deferred
// setting of an RDS instance without applyImmediately and the live value is
// the one the state already recorded as the output of the last update: the
// cloud did not move, it has not yet applied what was asked. A hand edit
// moves the live value, so it stays drift.
func splitPending(typ string, state, live *apitype.StepEventStateMetadata, paths []string) (pending, drift []string) {
	if typ != baseline.TypeDBInstance || state == nil || live == nil || state.Inputs["applyImmediately"] == true {
		return nil, paths
	}
	for _, p := range paths {
		was, now := lookup(state.Outputs, p), lookup(live.Outputs, p)
		if deferredRDS[p] && now != nil && reflect.DeepEqual(was, now) && !reflect.DeepEqual(lookup(state.Inputs, p), now) {
			pending = append(pending, p)
		} else {
			drift = append(drift, p)
		}
	}
	return pending, drift
}

// asked is a deferred setting the last update asked for (the state's
// input) while the instance ran another value (the state's output).
type asked struct{ Want, Running any }

// windowApplied reports an instance on which RDS has applied what the last
// update asked for since the state was written: a deferred setting's output
// moved to the value the state's input holds. The state's outputs are then
// stale, and the provider, which diffs the program against them, would plan
// against what no longer runs.
func windowApplied(typ string, state, live *apitype.StepEventStateMetadata) bool {
	if typ != baseline.TypeDBInstance || state == nil || live == nil {
		return false
	}
	for k := range deferredRDS {
		was, now := state.Outputs[k], live.Outputs[k]
		if was != nil && now != nil && !reflect.DeepEqual(was, now) && reflect.DeepEqual(lookup(state.Inputs, k), now) {
			return true
		}
	}
	return false
}

// askedDeferred lists, per RDS instance of a state export, the deferred
// settings asked but not running: modifications that may still be pending.
func askedDeferred(d *deployment) map[string]map[string]asked {
	out := map[string]map[string]asked{}
	for _, r := range d.resources {
		in, _ := r["inputs"].(map[string]any)
		outs, _ := r["outputs"].(map[string]any)
		if str(r, "type") != baseline.TypeDBInstance || in["applyImmediately"] == true {
			continue
		}
		for k := range deferredRDS {
			if want, ok := in[k]; ok && outs[k] != nil && !reflect.DeepEqual(want, outs[k]) {
				if out[str(r, "urn")] == nil {
					out[str(r, "urn")] = map[string]asked{}
				}
				out[str(r, "urn")][k] = asked{Want: want, Running: outs[k]}
			}
		}
	}
	return out
}

// restoreAsked puts back, after a state-writing refresh, the asked value of
// each pending setting whose running value the refresh found unchanged: the
// refresh overwrote the state's record of what was asked with the running
// value, and the next update would ask RDS again. It returns the URNs it
// changed.
func restoreAsked(d *deployment, before map[string]map[string]asked) []string {
	var changed []string
	for _, r := range d.resources {
		props := before[str(r, "urn")]
		in, _ := r["inputs"].(map[string]any)
		outs, _ := r["outputs"].(map[string]any)
		if len(props) == 0 || in == nil {
			continue
		}
		touched := false
		for k, a := range props {
			if reflect.DeepEqual(outs[k], a.Running) && !reflect.DeepEqual(in[k], a.Want) {
				in[k], touched = a.Want, true
			}
		}
		if touched {
			changed = append(changed, str(r, "urn"))
		}
	}
	sort.Strings(changed)
	return changed
}

// keepAsked restores the record of pending modifications after a
// state-writing refresh (restoreAsked), importing the edited state.
func keepAsked(ctx context.Context, op *opened, before map[string]map[string]asked, backup string, rep *StackReport) error {
	_, exported, err := exportState(ctx, op.stack)
	if err != nil {
		return fmt.Errorf("keep the pending modifications after the refresh: %w", err)
	}
	d, err := parseDeployment(exported)
	if err != nil {
		return fmt.Errorf("keep the pending modifications after the refresh: %w", err)
	}
	urns := restoreAsked(d, before)
	if len(urns) == 0 {
		return nil
	}
	if err := op.importEdited(ctx, d, exported, backup); err != nil {
		return fmt.Errorf("keep the pending modifications after the refresh: %w", err)
	}
	rep.Notes = append(rep.Notes, "the refresh kept the record of the modifications RDS holds pending on "+strings.Join(urns, ", ")+" (so no update asks for them again)")
	return nil
}

// pendingOnly reports whether a planned update changes nothing but pending
// properties, each to the value already asked: running it would ask RDS
// again for what it holds pending (refused: "No modifications were
// requested").
func (ps pendingSet) pendingOnly(c ResourceChange) bool {
	props := ps[c.URN]
	if c.Kind != string(apitype.OpUpdate) || len(props) == 0 || len(c.Properties) == 0 {
		return false
	}
	for _, p := range c.Properties {
		asked, ok := props[p.Path]
		if !ok || !reflect.DeepEqual(asked, p.Live) {
			return false
		}
	}
	return true
}

// dropPending takes out of the plan the updates that would only ask again
// for pending modifications: they are reported as pending, not changes.
func (p *planPass) dropPending() {
	ps := p.drift.pending
	if len(ps) == 0 {
		return
	}
	only := map[string]bool{}
	kept := p.changes[:0]
	for _, c := range p.changes {
		if ps.pendingOnly(c) {
			only[c.URN] = true
			continue
		}
		for i, pc := range c.Properties {
			if asked, ok := ps[c.URN][pc.Path]; ok && reflect.DeepEqual(asked, pc.Live) && p.inputs[c.URN]["applyImmediately"] != true {
				c.Properties[i].Kind = "pending" // sent again beside the other changes; RDS keeps it for the window
			}
		}
		kept = append(kept, c)
	}
	p.changes = kept
	p.pendingOnly = slices.Sorted(maps.Keys(only))
	for i := range p.steps {
		if only[p.steps[i].URN] && p.steps[i].Op == apitype.OpUpdate {
			p.steps[i].Op = apitype.OpSame
		}
	}
}

func (ps pendingSet) urns() []string {
	out := make([]string, 0, len(ps))
	for u := range ps {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// holdPending makes the rest of an up leave pending modifications alone:
// the instances whose only planned change is to ask again for what RDS
// holds pending are left out of the update (their state keeps the record of
// what was asked); an instance with other changes is updated, asking again
// beside them, which RDS accepts.
func (op *opened) holdPending(p *planPass, rep *StackReport) {
	op.exclude = p.pendingOnly
	if len(p.pendingOnly) > 0 {
		rep.Notes = append(rep.Notes, "pending until the maintenance window (RDS holds them; not asked again): "+strings.Join(p.pendingOnly, ", "))
	}
}

// overtaken lists the pending modifications the program no longer asks for
// (it asks another value, often the running one back): RDS still applies
// them in the maintenance window, and no plan shows it, since the program
// and the running value agree.
func (p *planPass) overtaken() []string {
	var out []string
	for _, urn := range p.drift.pending.urns() {
		in, ok := p.inputs[urn]
		if !ok {
			continue
		}
		for path, asked := range p.drift.pending[urn] {
			if p.updates(urn, path) {
				continue // the update asks the new value: RDS replaces the pending one
			}
			if now := lookup(in, path); !reflect.DeepEqual(now, asked) {
				out = append(out, fmt.Sprintf("%s: RDS holds %s = %v pending for the maintenance window, but the program now asks %v; "+
					"RDS applies the pending value in the window unless it is cancelled (apply the program's value now with applyImmediately, or cancel the pending modification in the RDS console)",
					urnName(urn), path, asked, now))
			}
		}
	}
	sort.Strings(out)
	return out
}

// noModifications is RDS's answer to a modification that asks only for what
// it already holds pending.
const noModifications = "No modifications were requested"

// recordRequested handles that answer: an earlier run asked RDS for these
// deferred settings and was stopped before its state recorded it (a kill
// mid-update), so the state says nothing is pending and every update asks
// again. It writes the program's values into the state's inputs of the
// instances the plan updated, as an update would have, so the next run
// reports them pending and leaves them alone.
func (op *opened) recordRequested(ctx context.Context, p *planPass, rep *StackReport) {
	want := map[string]map[string]asked{}
	for _, c := range p.changes {
		if urnType(c.URN) != baseline.TypeDBInstance || c.Kind != string(apitype.OpUpdate) {
			continue
		}
		for _, pc := range c.Properties {
			if deferredRDS[pc.Path] && p.inputs[c.URN] != nil {
				if want[c.URN] == nil {
					want[c.URN] = map[string]asked{}
				}
				want[c.URN][pc.Path] = asked{Want: lookup(p.inputs[c.URN], pc.Path), Running: pc.State}
			}
		}
	}
	if len(want) == 0 {
		return
	}
	if err := keepAsked(ctx, op, want, "(none: only the inputs of the pending settings change)", rep); err != nil {
		rep.Notes = append(rep.Notes, "RDS already holds these modifications pending, but recording them in the state failed: "+err.Error())
		return
	}
	rep.Notes = append(rep.Notes, "RDS answered that it already holds the asked modifications pending (a run stopped after asking, before it recorded them): "+
		"they are now recorded as pending, and the next up reports them pending and changes nothing else for them")
}

// updates reports whether the plan's update of urn sets path.
func (p *planPass) updates(urn, path string) bool {
	for _, c := range p.changes {
		if c.URN != urn {
			continue
		}
		for _, pc := range c.Properties {
			if pc.Path == path && pc.Kind != "pending" {
				return true
			}
		}
	}
	return false
}

// pendingFixes downgrades the live-state findings that the modifications
// RDS holds pending fix: evaluated again with the asked values in place, the
// finding is gone. The instance still runs as found (the finding stays, as
// advisory), but the fix is asked for and waits for the window.
func pendingFixes(live []policypack.Resource, ps pendingSet, found []policypack.Violation, pol policypack.Config) []policypack.Violation {
	if len(ps) == 0 {
		return found
	}
	fixed := make([]policypack.Resource, len(live))
	for i, r := range live {
		fixed[i] = r
		if asked := ps[r.URN]; len(asked) > 0 {
			props := r.Properties.Copy()
			for k, v := range policypack.FromJSON(asked) {
				props[k] = v
			}
			fixed[i].Properties = props
		}
	}
	still := map[string]bool{}
	for _, v := range policypack.Evaluate(fixed, pol) {
		still[v.Rule+"|"+v.URN] = true
	}
	out := make([]policypack.Violation, len(found))
	for i, v := range found {
		out[i] = v
		if _, pending := ps[v.URN]; pending && v.Level == policypack.Mandatory && !still[v.Rule+"|"+v.URN] {
			out[i].Level, out[i].Downgraded = policypack.Advisory, "fixed by a modification RDS holds for the maintenance window (see pending)"
		}
	}
	return out
}
