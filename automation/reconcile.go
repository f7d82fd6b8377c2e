package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/policypack"
)

// ReconcileRequest says what to bring back in line.
type ReconcileRequest struct {
	// Remove drops state entries by URN or by the cloud ID they hold (a rule
	// deleted outside the program, an orphan).
	Remove []string
	// DeleteUnmanaged deletes rules created outside the program (by rule
	// ID) from the cloud: each is imported, then destroyed alone.
	DeleteUnmanaged []string
	// StateFile imports this edited export instead of editing the current
	// state; it is checked before anything is imported.
	StateFile string
	// DryRun shows the edit and imports nothing.
	DryRun bool
	// BackupDir is where the export is kept (default ~/.deployer/backups).
	BackupDir string
}

type reconcileOptions struct{ options }

// ReconcileOption configures Reconcile.
type ReconcileOption interface{ applyReconcile(*reconcileOptions) }

func (p progressOpt) applyReconcile(o *reconcileOptions) { o.progress = p.w }
func (l loggerOpt) applyReconcile(o *reconcileOptions)   { o.log = l.l }

// Reconcile is the seed's recovery for orphans: export the stack (a backup
// is kept and named), remove the resources named, refuse when something left
// still depends on them, import, delete unmanaged rules from the cloud when
// asked, then preview and show what the next up would change.
func Reconcile(ctx context.Context, s Settings, stack string, program pulumi.RunFunc, req ReconcileRequest, opts ...ReconcileOption) StackReport {
	var o reconcileOptions
	for _, opt := range opts {
		opt.applyReconcile(&o)
	}
	rep := StackReport{Stack: stack}
	if len(req.Remove)+len(req.DeleteUnmanaged) == 0 && req.StateFile == "" {
		return failed(rep, "input", fmt.Errorf("nothing to reconcile: give --remove URN|ID, --delete-unmanaged RULE-ID or --state-file FILE"))
	}
	op, err := s.open(ctx, stack, program, o.logger())
	if err != nil {
		return failed(rep, "open", err)
	}
	locks, _, err := Locks(s.BackendURL, stack)
	if err != nil {
		return failed(rep, "lock", err)
	}
	if len(locks) > 0 {
		return failed(rep, "lock", fmt.Errorf("stack %q is locked (%s); see `deployer unlock`", stack, locks[0]))
	}
	backup, err := backupState(ctx, op.stack, req.BackupDir, stack)
	if err != nil {
		return failed(rep, "export", err)
	}
	rep.Notes = append(rep.Notes, "export kept: "+backup)
	current, err := op.stack.Export(ctx)
	if err != nil {
		return failed(rep, "export", cliError(err))
	}

	next := current
	if req.StateFile != "" {
		raw, err := os.ReadFile(req.StateFile)
		if err != nil {
			return failed(rep, "input", fmt.Errorf("--state-file: %w", err))
		}
		if err := json.Unmarshal(raw, &next); err != nil {
			return failed(rep, "validate", fmt.Errorf("--state-file %s is not an export: %v", req.StateFile, err))
		}
	}
	dep, err := parseDeployment(next)
	if err != nil {
		return failed(rep, "validate", err)
	}
	if len(req.Remove) > 0 {
		removed, err := dep.remove(req.Remove)
		if err != nil {
			return failed(rep, "edit", err)
		}
		for _, r := range removed {
			rep.Changes = append(rep.Changes, ResourceChange{URN: r.URN, Type: r.Type, Name: nameOf(r.URN), Kind: "removed-from-state"})
		}
	}
	if err := dep.validate(); err != nil {
		return failed(rep, "validate", fmt.Errorf("the edited state would be invalid, nothing imported: %w", err))
	}
	for _, id := range req.DeleteUnmanaged {
		rep.Changes = append(rep.Changes, ResourceChange{URN: id, Type: "unmanaged rule", Name: id, Kind: "delete-from-cloud"})
	}
	if req.DryRun {
		rep.Notes = append(rep.Notes, "dry run: nothing was imported or deleted")
		rep.finish()
		rep.Result, rep.ExitCode = "changes", ExitChanges
		if len(rep.Changes) == 0 {
			rep.Result, rep.ExitCode = "clean", ExitOK
		}
		return rep
	}
	if len(req.Remove) > 0 || req.StateFile != "" {
		out, err := dep.untyped(next)
		if err != nil {
			return failed(rep, "import", err)
		}
		if err := op.stack.Import(ctx, out); err != nil {
			return failed(rep, "import", fmt.Errorf("import the edited state: %w (the export is at %s)", cliError(err), backup))
		}
	}
	for _, id := range req.DeleteUnmanaged {
		if err := deleteUnmanaged(ctx, s, op, id, &o.options); err != nil {
			return failed(rep, "delete-unmanaged", err)
		}
		rep.Notes = append(rep.Notes, "deleted unmanaged rule "+id+" from the cloud")
	}

	p, err := op.runPlanPass(ctx, &o.options, "", "", true)
	if err != nil {
		return failed(rep, "preview", err)
	}
	p.drift.driftInto(&rep)
	rep.Changes = append(rep.Changes, p.changes...)
	rep.Violations = p.gate(op.policy)
	rep.finish()
	rep.Result, rep.ExitCode = "done", ExitOK
	if p.hasChanges() {
		rep.Notes = append(rep.Notes, "the next `deployer up` would apply the plan changes listed")
	}
	return rep
}

func nameOf(urn string) string { return urn[strings.LastIndex(urn, "::")+2:] }

// deleteUnmanaged adopts a rule created outside the program into the state
// under a name of its own (the state entry is written directly, as `pulumi
// import` would, since the CLI's import needs a language plugin that inline
// programs do not have), reads it back from the provider to fill its
// properties (trying ingress, then egress), then destroys exactly that
// resource.
func deleteUnmanaged(ctx context.Context, s Settings, op *opened, id string, o *options) error {
	for _, typ := range []string{policypack.TypeIngressRule, policypack.TypeEgressRule} {
		urn, err := adoptRule(ctx, op, id, typ)
		if err != nil {
			return err
		}
		if _, err := op.stack.Refresh(ctx, optrefresh.Target([]string{urn})); err != nil {
			return fmt.Errorf("read unmanaged rule %s: %w", id, cliError(err))
		}
		dep, err := op.stack.Export(ctx)
		if err != nil {
			return cliError(err)
		}
		if !strings.Contains(string(dep.Deployment), urn) {
			continue // not of this type: the refresh dropped it
		}
		dopts := []optdestroy.Option{optdestroy.Target([]string{urn})}
		if o.progress != nil {
			dopts = append(dopts, optdestroy.ProgressStreams(o.progress))
		}
		if _, err := op.stack.Destroy(ctx, dopts...); err != nil {
			return fmt.Errorf("delete unmanaged rule %s: %w", id, cliError(err))
		}
		return nil
	}
	return fmt.Errorf("unmanaged rule %s was found neither as an ingress nor as an egress rule", id)
}

// adoptRule writes a state entry for rule id of type typ, on the provider of
// the group it belongs to.
func adoptRule(ctx context.Context, op *opened, id, typ string) (string, error) {
	cur, err := op.stack.Export(ctx)
	if err != nil {
		return "", cliError(err)
	}
	dep, err := parseDeployment(cur)
	if err != nil {
		return "", err
	}
	var provider, stackURN string
	for _, r := range dep.resources {
		switch str(r, "type") {
		case policypack.TypeSecurityGroup:
			provider = str(r, "provider")
		case "pulumi:pulumi:Stack":
			stackURN = str(r, "urn")
		}
	}
	if provider == "" || stackURN == "" {
		return "", fmt.Errorf("the stack has no managed security group to adopt rule %s under", id)
	}
	urn := fmt.Sprintf("urn:pulumi:%s::%s::%s::unmanaged-%s", op.stack.Name(), projectOf(op), typ, id)
	dep.resources = append(dep.resources, map[string]any{
		"urn": urn, "custom": true, "id": id, "type": typ, "parent": stackURN, "provider": provider,
		"inputs": map[string]any{}, "outputs": map[string]any{},
	})
	out, err := dep.untyped(cur)
	if err != nil {
		return "", err
	}
	if err := op.stack.Import(ctx, out); err != nil {
		return "", fmt.Errorf("adopt unmanaged rule %s: %w", id, cliError(err))
	}
	return urn, nil
}

func projectOf(op *opened) string {
	ps, err := op.stack.Workspace().ProjectSettings(context.Background())
	if err != nil || ps == nil {
		return "postgis-platform"
	}
	return string(ps.Name)
}

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
	if p := str(r, "provider"); p != "" {
		if i := strings.LastIndex(p, "::"); i > 0 {
			out = append(out, p[:i])
		}
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
