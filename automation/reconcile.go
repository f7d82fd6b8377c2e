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
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
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
	// Pending resolves the pending operations an interrupted run left: a
	// pending create that exists in the cloud is imported (its ID from
	// ImportPending, or matched with the one unmanaged rule on its group),
	// every other pending operation is dropped and the state refreshed.
	Pending bool
	// ImportPending maps pending-create URNs to the cloud IDs they got.
	ImportPending map[string]string
	// Adopt brings resources created by hand under management: URN (as the
	// program declares it) = cloud ID. The entry is written with the parent
	// and provider the URN implies, then read from the provider.
	Adopt map[string]string
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
	if len(req.Remove)+len(req.DeleteUnmanaged)+len(req.Adopt) == 0 && req.StateFile == "" && !req.Pending {
		return failed(rep, "input", fmt.Errorf("nothing to reconcile: give --remove URN|ID, --delete-unmanaged RULE-ID, --adopt URN=ID, --pending or --state-file FILE"))
	}
	op, err := s.open(ctx, stack, program, o.logger())
	if err != nil {
		return failed(rep, "open", err)
	}
	locks, err := Locks(ctx, s.BackendURL, stack)
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
	// Secrets stay encrypted: the SDK's import writes this to a temporary file.
	_, current, err := exportState(ctx, op.stack)
	if err != nil {
		return failed(rep, "export", fmt.Errorf("export state of %q: %w", stack, err))
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
	for urn, id := range req.Adopt {
		if err := dep.adopt(urn, id); err != nil {
			return failed(rep, "adopt", err)
		}
		rep.Changes = append(rep.Changes, ResourceChange{URN: urn, Type: urnType(urn), Name: nameOf(urn), ID: id, Kind: "adopted"})
	}
	var imported []string
	if req.Pending {
		ids := map[string]string{}
		for k, v := range req.ImportPending {
			ids[k] = v
		}
		if err := matchPendingRules(ctx, s, op, stack, program, dep, ids, &o.options); err != nil {
			return failed(rep, "pending", err)
		}
		changes, urns := dep.resolvePending(ids)
		rep.Changes = append(rep.Changes, changes...)
		imported = urns
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
	if len(req.Remove) > 0 || req.StateFile != "" || req.Pending || len(req.Adopt) > 0 {
		out, err := dep.untyped(next)
		if err != nil {
			return failed(rep, "import", err)
		}
		if err := op.stack.Import(ctx, out); err != nil {
			return failed(rep, "import", fmt.Errorf("import the edited state: %w (the export is at %s)", cliError(err), backup))
		}
	}
	if len(req.Adopt) > 0 {
		var urns []string
		for urn := range req.Adopt {
			urns = append(urns, urn)
		}
		if _, err := op.stack.Refresh(ctx, optrefresh.Target(urns)); err != nil {
			return failed(rep, "adopt", fmt.Errorf("read adopted resources: %w (the export is at %s)", cliError(err), backup))
		}
		rep.Notes = append(rep.Notes, "adopted: "+strings.Join(urns, ", "))
	}
	if req.Pending {
		// Read what the imported pending creates hold, and let the live state
		// settle what interrupted updates and deletes left.
		if _, err := op.stack.Refresh(ctx); err != nil {
			return failed(rep, "refresh", fmt.Errorf("refresh after resolving pending operations: %w", cliError(err)))
		}
		if len(imported) > 0 {
			rep.Notes = append(rep.Notes, "imported pending creates that exist in the cloud: "+strings.Join(imported, ", "))
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

func nameOf(urn string) string { return urnName(urn) }

// adopt adds a state entry for a resource the program declares at urn and
// that exists in the cloud as id: its parent and provider come from the URN
// and the state.
func (d *deployment) adopt(urn, id string) error {
	typ := urnType(urn)
	if typ == "" || !strings.HasPrefix(urn, "urn:pulumi:") {
		return fmt.Errorf("--adopt %q: not a URN (urn:pulumi:<stack>::<project>::<type chain>::<name>)", urn)
	}
	pkg := strings.SplitN(typ, ":", 2)[0]
	var provider, stackURN string
	urns := map[string]bool{}
	for _, r := range d.resources {
		urns[str(r, "urn")] = true
		if str(r, "urn") == urn {
			return fmt.Errorf("--adopt %s: the state already holds it", urn)
		}
		if str(r, "type") == "pulumi:pulumi:Stack" {
			stackURN = str(r, "urn")
		}
		if p := str(r, "provider"); provider == "" && strings.Contains(p, "::pulumi:providers:"+pkg+"::") {
			provider = p
		}
	}
	if provider == "" {
		return fmt.Errorf("--adopt %s: no %s provider in the state to read it with", urn, pkg)
	}
	parent := stackURN
	parts := strings.Split(urn, "::")
	if chain := parts[len(parts)-2]; strings.Contains(chain, "$") {
		parentType := chain[:strings.LastIndex(chain, "$")]
		parentType = parentType[strings.LastIndex(parentType, "$")+1:]
		for u := range urns {
			if urnType(u) == parentType && strings.HasPrefix(urn, strings.Join(parts[:len(parts)-2], "::")) {
				parent = u
			}
		}
	}
	d.resources = append(d.resources, map[string]any{
		"urn": urn, "custom": true, "id": id, "type": typ, "parent": parent, "provider": provider,
		"inputs": map[string]any{}, "outputs": map[string]any{},
	})
	return nil
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
			changes = append(changes, ResourceChange{URN: urn, Type: typ, Name: nameOf(urn), ID: id, Kind: "pending-create-imported"})
			continue
		}
		changes = append(changes, ResourceChange{URN: urn, Type: typ, Name: nameOf(urn), Kind: "pending-" + kind + "-dropped"})
	}
	d.raw["pending_operations"] = json.RawMessage("[]")
	return changes, imported
}

// matchPendingRules finds the cloud IDs of pending rule creates: a rule that
// reached the cloud shows as an unmanaged rule on its group; with exactly one
// pending rule create and one unmanaged rule on a group, they are the same.
func matchPendingRules(ctx context.Context, s Settings, op *opened, stack string, program pulumi.RunFunc, dep *deployment, ids map[string]string, o *options) error {
	perGroup := map[string][]string{}
	for _, p := range dep.pending() {
		res, _ := p["resource"].(map[string]any)
		if res == nil || str(p, "type") != "creating" || ids[str(res, "urn")] != "" {
			continue
		}
		if t := str(res, "type"); t != policypack.TypeIngressRule && t != policypack.TypeEgressRule {
			continue
		}
		inputs, _ := res["inputs"].(map[string]any)
		gid := str(inputs, "securityGroupId")
		perGroup[gid] = append(perGroup[gid], str(res, "urn"))
	}
	if len(perGroup) == 0 {
		return nil
	}
	drift := Drift(ctx, s, stack, program)
	if drift.Error != "" {
		return fmt.Errorf("look for pending creates in the cloud: %s", drift.Error)
	}
	unmanaged := map[string][]string{}
	for _, u := range drift.Unmanaged {
		unmanaged[u.GroupID] = append(unmanaged[u.GroupID], u.RuleID)
	}
	for gid, urns := range perGroup {
		switch {
		case len(urns) == 1 && len(unmanaged[gid]) == 1:
			ids[urns[0]] = unmanaged[gid][0]
		case len(unmanaged[gid]) > 0:
			return fmt.Errorf("pending creates %s and rules %s on group %s cannot be paired automatically; name each with --import-pending URN=ID",
				strings.Join(urns, ", "), strings.Join(unmanaged[gid], ", "), gid)
		}
	}
	return nil
}

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
		_, dep, err := exportState(ctx, op.stack)
		if err != nil {
			return fmt.Errorf("export state after reading unmanaged rule %s: %w", id, err)
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
	_, cur, err := exportState(ctx, op.stack)
	if err != nil {
		return "", fmt.Errorf("export state to adopt unmanaged rule %s: %w", id, err)
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
	ps, err := op.stack.Workspace().ProjectSettings(ctx)
	if err != nil || ps == nil {
		return "", fmt.Errorf("adopt unmanaged rule %s: read the project's name: %v", id, err)
	}
	urn := string(resource.NewURN(tokens.QName(op.stack.Name()), tokens.PackageName(ps.Name), "", tokens.Type(typ), "unmanaged-"+id))
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
