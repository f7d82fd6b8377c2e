package automation

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// retiredResources are resources earlier versions of the program registered
// whose objects must outlive them: the utility database's loopback user
// mapping was a provider resource (whose CREATE/ALTER USER MAPPING put the
// password into the server log); the program now writes it itself. Left in
// the state, the next update would plan its deletion and the guard would stop
// it; deleting it would drop the mapping create_database needs.
var retiredResources = []string{
	"::postgis:utilitydb:UtilityDatabase$postgresql:index/userMapping:UserMapping::",
}

func retired(urn string) bool {
	for _, r := range retiredResources {
		if strings.Contains(urn, r) {
			return true
		}
	}
	return false
}

// deletesRetired reports a plan that would delete a retired resource.
func (p *planPass) deletesRetired() bool {
	for _, s := range p.steps {
		if s.Op == apitype.OpDelete && retired(s.URN) {
			return true
		}
	}
	return false
}

// forgetRetired forgets the retired resources and plans again.
func (op *opened) forgetRetired(ctx context.Context, o *upOptions, stack string, rep *StackReport) (*planPass, error) {
	if err := forgetRetired(ctx, op, &o.options, o.backupDir, stack, rep); err != nil {
		return nil, err
	}
	return op.runPlanPass(ctx, &o.options, o.policyPack, "", refreshFromState)
}

// forgetRetired removes retired resources from the stack's state (a backup
// is kept) without touching what they made, and notes each in rep.
func forgetRetired(ctx context.Context, op *opened, o *options, backupDir, stack string, rep *StackReport) error {
	raw, exported, err := exportState(ctx, op.stack)
	if err != nil {
		return err
	}
	dep, err := parseDeployment(exported)
	if err != nil {
		return err
	}
	var urns []string
	for _, r := range dep.resources {
		if retired(str(r, "urn")) {
			urns = append(urns, str(r, "urn"))
		}
	}
	if len(urns) == 0 {
		return nil
	}
	path, err := writeBackup(backupDir, stack, raw) // the export just read: no second one
	if err != nil {
		return err
	}
	dep.forget(urns)
	if err := op.importEdited(ctx, dep, exported, path); err != nil {
		return fmt.Errorf("forget retired resources: %w", err)
	}
	for _, u := range urns {
		rep.Notes = append(rep.Notes, fmt.Sprintf("forgot %s from the state, keeping what it made (the program writes the user mapping itself now; backup: %s)", urnName(u), path))
	}
	o.logger().Info("forgot retired resources from the state", "stack", stack, "count", len(urns), "backup", path)
	return nil
}

// forget drops the resources named by urns and every reference to them
// (dependencies, property dependencies), so what depended on them stays.
func (d *deployment) forget(urns []string) {
	gone := map[string]bool{}
	for _, u := range urns {
		gone[u] = true
	}
	var kept []map[string]any
	for _, r := range d.resources {
		if gone[str(r, "urn")] {
			continue
		}
		if deps, ok := r["dependencies"].([]any); ok {
			r["dependencies"] = without(deps, gone)
		}
		if pd, ok := r["propertyDependencies"].(map[string]any); ok {
			for k, l := range pd {
				if list, ok := l.([]any); ok {
					pd[k] = without(list, gone)
				}
			}
		}
		kept = append(kept, r)
	}
	d.resources = kept
}

func without(list []any, gone map[string]bool) []any {
	out := []any{}
	for _, v := range list {
		if s, ok := v.(string); !ok || !gone[s] {
			out = append(out, v)
		}
	}
	return out
}

// importEdited checks an edited export and imports it as the stack's state;
// backup names where the state before the edit is kept.
func (op *opened) importEdited(ctx context.Context, d *deployment, exported apitype.UntypedDeployment, backup string) error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("the edited state would be invalid, nothing imported: %w", err)
	}
	out, err := d.untyped(exported)
	if err != nil {
		return err
	}
	if err := op.stack.Import(ctx, out); err != nil {
		return fmt.Errorf("import the edited state: %w (the backup is at %s)", cliError(err), backup)
	}
	return nil
}
