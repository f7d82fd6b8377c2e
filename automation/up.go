package automation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/stacks"
)

type upOptions struct {
	options
	policyPack  string
	allow       Allow
	acceptDrift bool
	refresh     bool
	whilePaused bool
	plan        string
	backupDir   string
	verify      bool
}

// UpOption configures Up.
type UpOption interface{ applyUp(*upOptions) }

func (p progressOpt) applyUp(o *upOptions) { o.progress = p.w }
func (l loggerOpt) applyUp(o *upOptions)   { o.log = l.l }

type upFunc func(*upOptions)

func (f upFunc) applyUp(o *upOptions) { f(o) }

// AcceptDrift lets an update run over drift; the program's values win where
// it declares them.
func AcceptDrift() UpOption { return upFunc(func(o *upOptions) { o.acceptDrift = true }) }

// RefreshFirst writes the refreshed state before planning, after saving a
// backup of the state in dir.
func RefreshFirst(backupDir string) UpOption {
	return upFunc(func(o *upOptions) { o.refresh, o.backupDir = true, backupDir })
}

// WithPlan applies exactly the plan preview's SavePlan wrote to path, or
// refuses (exit 3, ErrPlanStale) when the file was edited or the stack's
// state, its config or the deployer changed since, and (ErrDrift) when the
// live state drifted. The guard judges with the plan's allow-list.
func WithPlan(path string) UpOption { return upFunc(func(o *upOptions) { o.plan = path }) }

// WhilePaused lets up run on a paused stack: the operator's own update in
// the recovery sequence (PauseStack).
func WhilePaused() UpOption { return upFunc(func(o *upOptions) { o.whilePaused = true }) }

// WithVerify runs the live database checks after the update, through the
// stack program's variant that reports them with the admin credential its
// provider uses (stacks.Options.Verify). Without it they are skipped, and
// the report says so.
func WithVerify() UpOption { return upFunc(func(o *upOptions) { o.verify = true }) }

// Up is the guarded, non-destructive update, a script of steps:
//
//  1. refuse a locked stack or one with pending operations, and a paused
//     one (exit 3) unless WhilePaused;
//  2. one preview that refreshes in memory first, by running the program
//     (the current admin credential; again with the stored providers when
//     the plan cannot stand alone, planPass.standsAlone): drift stops the run,
//     exit 3, unless AcceptDrift, or RefreshFirst refreshed the state
//     (backup kept); modifications RDS holds pending are reported, not
//     asked for again;
//  3. the policy gate over the planned resources, and the saved update plan;
//  4. the guard: a delete or replacement not explicitly allowed stops it
//     (exit 3); an allowed replacement of a protected resource lifts the
//     protection of that resource alone;
//  5. no update when nothing changes;
//  6. an update constrained to the saved plan;
//  7. the live database checks (WithVerify).
func Up(ctx context.Context, s Settings, stack string, opts ...UpOption) StackReport {
	var o upOptions
	for _, opt := range opts {
		opt.applyUp(&o)
	}
	s.Env = withEnv(s.Env, "PULUMI_EXPERIMENTAL", "true") // update plans
	ss := s.session(ctx, stack, &o.options)
	return ss.finish(ss.up(&o))
}

func (ss *session) up(o *upOptions) (err error) {
	var saved *SavedPlan
	if o.plan != "" {
		if saved, err = ss.readPlan(o.plan); err != nil {
			return err
		}
	}
	if err := ss.openToChange(stacks.Options{}, true); err != nil {
		return err
	}
	if err := ss.checkPause(true, o.whilePaused); err != nil {
		return err
	}
	if saved != nil {
		return ss.upWithPlan(o, *saved)
	}
	if o.refresh {
		if err := ss.refreshWithBackup(o.backupDir, nil); err != nil {
			return err
		}
	}
	p, err := ss.judgeLive(o)
	if err != nil {
		return err
	}
	var lifted []string // protection lifted is put back unless the update succeeds
	defer func() { ss.putBackProtection(lifted, err) }()
	if p, err = ss.replaceProtected(o, p, &lifted); err != nil {
		return err
	}
	if err := ss.gate(o, p); err != nil {
		return err
	}
	if !ss.updateNeeded(p) {
		ss.result = ResultClean
		return ss.verify(o.verify)
	}
	if err := ss.refreshBeforeUpdate(o, p); err != nil {
		return err
	}
	unprotected, err := ss.liftProtection(o, p.steps)
	lifted = append(lifted, unprotected...)
	if err != nil {
		return err
	}
	if err := ss.update(o); err != nil {
		return err
	}
	lifted = nil // the program's protect applies to what the update made
	ss.result = ResultDone
	return ss.verify(o.verify)
}

// judgeLive is pass A, one preview that refreshes in memory: it serves as
// the drift check and the plan to judge (for a stack without changes it is
// the only engine pass). Live findings no update repairs, and drift not
// accepted, stop the run.
func (ss *session) judgeLive(o *upOptions) (*planPass, error) {
	ss.log.Info("previewing (refresh in memory, then plan)", "stack", ss.name)
	p, err := ss.op.firstPlan(ss.ctx, o, ss.name, &ss.rep)
	if err != nil {
		return nil, at("preview", err)
	}
	p.drift.driftInto(&ss.rep)
	if err := liveBlocks(p.drift, ss.op.policy, ss.name, &ss.rep); err != nil {
		return nil, err
	}
	ss.op.holdPending(p, &ss.rep)
	ss.rep.Notes = append(ss.rep.Notes, p.overtaken()...)
	ss.drifted = p.drift.hasDrift()
	if ss.drifted && !o.acceptDrift && !o.refresh {
		return nil, blockedf("drift", "%w: the live state of %q has drifted from its state (see changes/unmanaged); re-run with --refresh to refresh the state first (a backup is kept) or --accept-drift to let the program's values win; `deployer reconcile` removes unmanaged rules", ErrDrift, ss.name)
	}
	return p, nil
}

// gate judges the plan: moves the cloud refuses half-way, mandatory policy
// violations (step "policy") and deletes or replacements not allowed (step
// "guard") stop the run.
func (ss *session) gate(o *upOptions, p *planPass) error {
	ss.rep.Changes = append(ss.rep.Changes, p.changes...)
	if err := errors.Join(impossibleMoves(p.steps), deferredMajorUpgrade(p.changes, p.steps, p.inputs)); err != nil {
		return blocked("guard", err)
	}
	ss.rep.Violations = p.gate(ss.op.policy)
	if bl := policypack.Blocking(ss.rep.Violations); len(bl) > 0 {
		return blockedf("policy", "%d mandatory policy violation(s) in the plan (see violations)", len(bl))
	}
	if found := Guard(p.steps, o.allow); len(found) > 0 {
		return blocked("guard", guardError(found))
	}
	return nil
}

// updateNeeded reports whether the plan changes anything (the loopback
// login's mapping and a login due for rotation count); the report says why
// not.
func (ss *session) updateNeeded(p *planPass) bool {
	if due := p.drift.loginDue(); due != "" {
		ss.note("the utility functions' owner gets a new loopback login in this update (%s)", due)
	}
	if m := p.drift.mappingChange(); m != nil {
		ss.note("the utility functions' owner gets a new loopback login in this update: its user mapping is %s (%s)", m.Kind, m.Properties[0].Live)
	}
	if p.hasChanges() || p.drift.mappingChange() != nil || p.drift.loginDue() != "" {
		return true
	}
	ss.log.Info("no changes: no update", "stack", ss.name)
	ss.note("the plan has no changes: no update was run")
	return false
}

// refreshBeforeUpdate writes the live state (backup kept) when the update,
// run without its own refresh, would plan against a stale one: drift
// accepted, or modifications RDS applied in its window since the last update
// (the state's outputs hold the old values, which the provider diffs
// against).
func (ss *session) refreshBeforeUpdate(o *upOptions, p *planPass) error {
	if !(ss.drifted && !o.refresh) && len(p.drift.applied) == 0 {
		return nil
	}
	if len(p.drift.applied) > 0 {
		ss.note("RDS applied the modifications it held for the maintenance window on %s: the state is refreshed before the update", strings.Join(p.drift.applied, ", "))
	}
	return ss.refreshWithBackup(o.backupDir, p.drift.pending.urns())
}

// update is pass B, the plan the update is held to on a state that now
// matches the live one, judged again in case anything moved, then the
// update constrained to it.
func (ss *session) update(o *upOptions) error {
	planDir, err := os.MkdirTemp("", "deployer-plan-")
	if err != nil {
		return at("preview", err)
	}
	defer os.RemoveAll(planDir)
	planFile := filepath.Join(planDir, "plan.json")
	p, err := ss.op.runPlanPass(ss.ctx, &o.options, o.policyPack, planFile, noRefresh)
	if err != nil {
		return at("preview", err)
	}
	if len(p.protectedReplace) > 0 {
		return at("protection", fmt.Errorf("still protected: %s", strings.Join(p.protectedReplace, ", ")))
	}
	if found := Guard(p.steps, o.allow); len(found) > 0 {
		return at("guard", guardError(found))
	}
	if bl := policypack.Blocking(p.gate(ss.op.policy)); len(bl) > 0 {
		return at("policy", fmt.Errorf("%d mandatory policy violation(s) in the final plan", len(bl)))
	}
	step, err := ss.op.apply(ss.ctx, ss.s, o, p, planFile, &ss.rep)
	return at(step, err)
}

// refreshWithBackup writes the live state into the stack's state after a
// backup (step "refresh"); keep: see refreshState.
func (ss *session) refreshWithBackup(backupDir string, keep []string) error {
	return at("refresh", refreshState(ss.ctx, ss.op, ss.o, backupDir, ss.name, &ss.rep, keep))
}

// firstPlan is Pass A: the preview that refreshes in memory. It refreshes
// by running the program first, so its providers log in with the admin's
// current credential: a credential AWS rotated since the last update is
// followed (followCredentials) before anything logs in with the stored one.
// When that pass cannot stand alone (standsAlone), the preview runs again
// refreshing with the stored providers (planFromState), and that plan is the
// one judged; retired resources are forgotten and it runs again.
func (op *opened) firstPlan(ctx context.Context, o *upOptions, stack string, rep *StackReport) (*planPass, error) {
	p, err := op.runPlanPass(ctx, &o.options, o.policyPack, "", refreshByProgram)
	if err == nil && p.readsLive() && p.drift.hasDrift() && !o.acceptDrift && !o.refresh {
		// Drift stops the run (judgeLive) before anything is written, a
		// rotated credential included.
		if len(p.credentialUpdates) > 0 {
			rep.Notes = append(rep.Notes, "the admin's credential was rotated since the last update; it is stored by the next up that runs (this one stops on drift)")
		}
		return p, nil
	}
	if err == nil && len(p.credentialUpdates) > 0 {
		if err = op.followCredentials(ctx, &o.options, rep); err != nil {
			return p, fmt.Errorf("the admin's credential changed since the last update (%s), and the stored one was not brought up to date: %w",
				strings.Join(names(p.credentialUpdates), ", "), err)
		}
		p, err = op.runPlanPass(ctx, &o.options, o.policyPack, "", refreshByProgram)
	}
	if err != nil || !p.standsAlone() {
		// The program's pass tells whether the credential was rotated only
		// when it read live (readsLive).
		p, err = op.planFromState(ctx, o, rep, err != nil || !p.readsLive())
	}
	if err == nil && p.deletesRetired() {
		p, err = op.forgetRetired(ctx, o, stack, rep)
	}
	return p, err
}

// planFromState is the preview that refreshes with the providers' config
// stored in the state. With ask, it first asks the providers alone whether
// the admin's credential was rotated (the program's pass could not tell: a
// replacement hides the providers' config) and stores it before the stored
// providers log in. A login refused all the same (a password changed by
// hand, say) is followed as before and the preview runs again.
func (op *opened) planFromState(ctx context.Context, o *upOptions, rep *StackReport, ask bool) (*planPass, error) {
	if ask {
		if rotated, err := op.rotatedProviders(ctx, &o.options); err == nil && len(rotated) > 0 {
			if err := op.storeCredentials(ctx, &o.options, rep, rotated); err != nil {
				return nil, fmt.Errorf("the admin's credential changed since the last update, and the stored one was not brought up to date: %w", err)
			}
		}
	}
	p, err := op.runPlanPass(ctx, &o.options, o.policyPack, "", refreshFromState)
	if staleLogin(err) {
		if ferr := op.followCredentials(ctx, &o.options, rep); ferr != nil {
			return p, fmt.Errorf("%w\nThe stored credential was not brought up to date: %v", err, ferr)
		}
		p, err = op.runPlanPass(ctx, &o.options, o.policyPack, "", refreshFromState)
	}
	return p, err
}

// apply runs the update held to the saved plan (leaving out what
// holdPending excluded); on failure it returns the step to report.
func (op *opened) apply(ctx context.Context, s Settings, o *upOptions, p *planPass, planFile string, rep *StackReport) (string, error) {
	uopts, err := planOptions(planFile, rep)
	if err != nil {
		return "preview", err
	}
	if o.plan != "" {
		uopts = []optup.Option{optup.Plan(planFile)} // a saved plan is always held to
	}
	o.logger().Info("updating", "stack", op.stack.Name(), "constrained to the previewed plan", len(uopts) > 0)
	if len(op.exclude) > 0 {
		uopts = append(uopts, optup.Exclude(op.exclude))
	}
	if o.progress != nil {
		uopts = append(uopts, optup.ProgressStreams(o.progress))
	}
	if _, err := op.stack.Up(ctx, uopts...); err != nil {
		if ctx.Err() != nil {
			rep.Notes = append(rep.Notes, leftBehind(afterCancel(ctx), s, op.stack.Name(), op.stack)...)
		}
		if isLockError(err) {
			// Another run took the lock after our check: nothing was applied.
			rep.Changes = nil
			rep.Notes = append(rep.Notes, "nothing was applied: another run holds the stack lock")
			return "lock", fmt.Errorf("update: %w", cliError(err))
		}
		if strings.Contains(err.Error(), noModifications) {
			op.recordRequested(afterCancel(ctx), p, rep)
		}
		if o.plan != "" && violatesPlan(err) {
			return "plan", blockedf("plan", "%w: the update left the saved plan, so the program or what it reads changed since the preview; nothing beyond the plan was applied: make the plan again (%v)", ErrPlanStale, cliError(err))
		}
		return "up", fmt.Errorf("update: %w%s", cliError(err), refusalHint(err))
	}
	return "", nil
}

// liveBlocks stops an up over what no update repairs: open databases and
// hand-made utility functions or grants (step "database"), and unmanaged rules
// with a mandatory finding (step "unmanaged"); neither --refresh nor
// --accept-drift helps. The findings go into rep.
func liveBlocks(c *refreshCollector, pol policypack.Config, stack string, rep *StackReport) error {
	if found := policypack.Evaluate(c.openDatabases(), pol); len(policypack.Blocking(found)) > 0 {
		rep.Violations = found
		return blockedf("database", "%d mandatory finding(s) in the live database that no update repairs (see violations); fix them as each says, then run up again", len(policypack.Blocking(found)))
	}
	if found := judgeUnmanaged(rep.Unmanaged, pol); len(policypack.Blocking(found)) > 0 {
		rep.Violations = found
		return blocked("unmanaged", unmanagedBlockError(stack, rep.Unmanaged, policypack.Blocking(found)))
	}
	return nil
}

// violatesPlan reports the engine refusing a step its update plan does not
// hold (upstream v3.230.0 pkg/resource/deploy: "is not allowed by the plan",
// "violates plan").
func violatesPlan(err error) bool {
	return strings.Contains(err.Error(), "is not allowed by the plan") || strings.Contains(err.Error(), "violates plan")
}
