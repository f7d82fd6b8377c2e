package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/postgis-platform/deployer/baseline"
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
func Reconcile(ctx context.Context, s Settings, stack string, req ReconcileRequest, opts ...ReconcileOption) StackReport {
	var o reconcileOptions
	for _, opt := range opts {
		opt.applyReconcile(&o)
	}
	ss := s.session(ctx, stack, &o.options)
	return ss.finish(ss.reconcile(req))
}

func (ss *session) reconcile(req ReconcileRequest) error {
	if len(req.Remove)+len(req.DeleteUnmanaged)+len(req.Adopt) == 0 && req.StateFile == "" && !req.Pending {
		return at("input", fmt.Errorf("nothing to reconcile: give --remove URN|ID, --delete-unmanaged RULE-ID, --adopt URN=ID, --pending or --state-file FILE"))
	}
	if err := ss.open(); err != nil {
		return err
	}
	if err := ss.refuseLocked(); err != nil {
		return err
	}
	if err := ss.checkPause(false, false); err != nil {
		return err
	}
	backup, err := backupState(ss.ctx, ss.op.stack, req.BackupDir, ss.name)
	if err != nil {
		return at("export", err)
	}
	ss.note("export kept: %s", backup)
	next, dep, imported, err := ss.edit(req)
	if err != nil {
		return err
	}
	for _, id := range req.DeleteUnmanaged {
		ss.rep.Changes = append(ss.rep.Changes, ResourceChange{URN: id, Type: "unmanaged rule", Name: id, Kind: "delete-from-cloud"})
	}
	if req.DryRun {
		ss.note("dry run: nothing was imported or deleted")
		ss.result = ResultClean
		if len(ss.rep.Changes) > 0 {
			ss.result = ResultChanges
		}
		return nil
	}
	if err := ss.writeEdited(req, next, dep, imported, backup); err != nil {
		return err
	}
	for _, id := range req.DeleteUnmanaged {
		if err := deleteUnmanaged(ss.ctx, ss.op, id, ss.o); err != nil {
			return at("delete-unmanaged", err)
		}
		ss.note("deleted unmanaged rule %s from the cloud", id)
	}
	return ss.showNextPlan()
}

// refuseLocked refuses a stack another run holds (step "lock").
func (ss *session) refuseLocked() error {
	locks, err := Locks(ss.ctx, ss.s.BackendURL, ss.name)
	if err != nil {
		return at("lock", err)
	}
	if len(locks) > 0 {
		return at("lock", fmt.Errorf("stack %q is locked (%s); see `deployer unlock`", ss.name, locks[0]))
	}
	return nil
}

// edit makes the edited state in memory: the export (or --state-file) with
// the resources removed, adopted and the pending operations resolved, and
// checks it; imported are the pending creates it imports.
func (ss *session) edit(req ReconcileRequest) (next apitype.UntypedDeployment, dep *deployment, imported []string, err error) {
	// Secrets stay encrypted: the SDK's import writes this to a temporary file.
	if _, next, err = exportState(ss.ctx, ss.op.stack); err != nil {
		return next, nil, nil, at("export", fmt.Errorf("export state of %q: %w", ss.name, err))
	}
	if req.StateFile != "" {
		raw, err := os.ReadFile(req.StateFile)
		if err != nil {
			return next, nil, nil, at("input", fmt.Errorf("--state-file: %w", err))
		}
		if err := json.Unmarshal(raw, &next); err != nil {
			return next, nil, nil, at("validate", fmt.Errorf("--state-file %s is not an export: %v", req.StateFile, err))
		}
	}
	if dep, err = parseDeployment(next); err != nil {
		return next, nil, nil, at("validate", err)
	}
	if err := ss.removeAndAdopt(req, dep); err != nil {
		return next, nil, nil, err
	}
	if req.Pending {
		ids := maps.Clone(req.ImportPending)
		if ids == nil {
			ids = map[string]string{}
		}
		if err := ss.matchPendingRules(dep, ids); err != nil {
			return next, nil, nil, at("pending", err)
		}
		var changes []ResourceChange
		changes, imported = dep.resolvePending(ids)
		ss.rep.Changes = append(ss.rep.Changes, changes...)
	}
	if err := dep.validate(); err != nil {
		return next, nil, nil, at("validate", fmt.Errorf("the edited state would be invalid, nothing imported: %w", err))
	}
	return next, dep, imported, nil
}

// removeAndAdopt edits dep for --remove (step "edit") and --adopt (step
// "adopt").
func (ss *session) removeAndAdopt(req ReconcileRequest, dep *deployment) error {
	if len(req.Remove) > 0 {
		removed, err := dep.remove(req.Remove)
		if err != nil {
			return at("edit", err)
		}
		for _, r := range removed {
			ss.rep.Changes = append(ss.rep.Changes, ResourceChange{URN: r.URN, Type: r.Type, Name: urnName(r.URN), Kind: "removed-from-state"})
		}
	}
	for urn, id := range req.Adopt {
		if err := dep.adopt(urn, id); err != nil {
			return at("adopt", err)
		}
		ss.rep.Changes = append(ss.rep.Changes, ResourceChange{URN: urn, Type: urnType(urn), Name: urnName(urn), ID: id, Kind: "adopted"})
	}
	return nil
}

// writeEdited imports the edited state, then reads what it adopted and
// refreshes after resolving pending operations.
func (ss *session) writeEdited(req ReconcileRequest, next apitype.UntypedDeployment, dep *deployment, imported []string, backup string) error {
	if len(req.Remove) > 0 || req.StateFile != "" || req.Pending || len(req.Adopt) > 0 {
		out, err := dep.untyped(next)
		if err != nil {
			return at("import", err)
		}
		if err := ss.op.stack.Import(ss.ctx, out); err != nil {
			return at("import", fmt.Errorf("import the edited state: %w (the export is at %s)", cliError(err), backup))
		}
	}
	if len(req.Adopt) > 0 {
		urns := slices.Sorted(maps.Keys(req.Adopt))
		if _, err := ss.op.stack.Refresh(ss.ctx, optrefresh.Target(urns)); err != nil {
			return at("adopt", fmt.Errorf("read adopted resources: %w (the export is at %s)", cliError(err), backup))
		}
		ss.note("adopted: %s", strings.Join(urns, ", "))
	}
	if req.Pending {
		// Read what the imported pending creates hold, and let the live state
		// settle what interrupted updates and deletes left.
		if _, err := ss.op.stack.Refresh(ss.ctx); err != nil {
			return at("refresh", fmt.Errorf("refresh after resolving pending operations: %w", cliError(err)))
		}
		if len(imported) > 0 {
			ss.note("imported pending creates that exist in the cloud: %s", strings.Join(imported, ", "))
		}
	}
	return nil
}

// showNextPlan previews what the next up would change (step "preview").
func (ss *session) showNextPlan() error {
	p, err := ss.op.livePlan(ss.ctx, ss.o, "")
	if errors.Is(err, errRotatedPlan) {
		ss.note("the next plan is not shown: %v", err) // the reconcile itself is done
		return nil
	}
	if err != nil {
		return at("preview", err)
	}
	ss.noteRotated(p)
	p.drift.driftInto(&ss.rep)
	ss.rep.Changes = append(ss.rep.Changes, p.changes...)
	ss.rep.Violations = p.gate(ss.op.policy)
	if p.hasChanges() {
		ss.note("the next `deployer up` would apply the plan changes listed")
	}
	return nil
}

// matchPendingRules finds the cloud IDs of pending rule creates: a rule that
// reached the cloud shows as an unmanaged rule on its group; with exactly one
// pending rule create and one unmanaged rule on a group, they are the same.
func (ss *session) matchPendingRules(dep *deployment, ids map[string]string) error {
	perGroup := map[string][]string{}
	for _, p := range dep.pending() {
		res, _ := p["resource"].(map[string]any)
		if res == nil || str(p, "type") != "creating" || ids[str(res, "urn")] != "" {
			continue
		}
		if t := str(res, "type"); t != baseline.TypeIngressRule && t != baseline.TypeEgressRule {
			continue
		}
		inputs, _ := res["inputs"].(map[string]any)
		gid := str(inputs, "securityGroupId")
		perGroup[gid] = append(perGroup[gid], str(res, "urn"))
	}
	if len(perGroup) == 0 {
		return nil
	}
	c, err := ss.scan()
	if err != nil {
		return fmt.Errorf("look for pending creates in the cloud: %w", err)
	}
	var live StackReport
	c.into(&live, ss.op.policy)
	unmanaged := map[string][]string{}
	for _, u := range live.Unmanaged {
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
func deleteUnmanaged(ctx context.Context, op *opened, id string, o *options) error {
	for _, typ := range []string{baseline.TypeIngressRule, baseline.TypeEgressRule} {
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
		case baseline.TypeSecurityGroup:
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
