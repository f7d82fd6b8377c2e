package automation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/policypack"
)

type upOptions struct {
	options
	policyPack  string
	allow       Allow
	acceptDrift bool
	refresh     bool
	backupDir   string
	verify      pulumi.RunFunc
	liftProgram func(urns []string) pulumi.RunFunc
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

// WithVerify runs the live database checks after the update through
// program, the stack program's variant that reports them with the admin
// credential its provider uses (stacks.Options.Verify). Without it they are
// skipped, and the report says so.
func WithVerify(program pulumi.RunFunc) UpOption {
	return upFunc(func(o *upOptions) { o.verify = program })
}

// WithLiftProgram gives the program variant that turns off deletion
// protection (ignoring every other change) on the given instances, run as a
// targeted update before an allowed replacement of an RDS instance.
func WithLiftProgram(f func(urns []string) pulumi.RunFunc) UpOption {
	return upFunc(func(o *upOptions) { o.liftProgram = f })
}

// Up is the guarded, non-destructive update:
//  1. refuse a locked stack or one with pending operations;
//  2. one preview that refreshes in memory first: drift stops the run,
//     exit 3, unless AcceptDrift, or RefreshFirst refreshed the state
//     (backup kept); modifications RDS holds pending are reported, not
//     asked for again;
//  3. the policy gate over the planned resources, and the saved update plan;
//  4. the guard: a delete or replacement not explicitly allowed stops it
//     (exit 3); an allowed replacement of a protected resource lifts the
//     protection of that resource alone;
//  5. no update when nothing changes;
//  6. an update constrained to the saved plan;
//  7. the live database checks.
func Up(ctx context.Context, s Settings, stack string, program pulumi.RunFunc, opts ...UpOption) (rep StackReport) {
	var o upOptions
	for _, opt := range opts {
		opt.applyUp(&o)
	}
	log := o.logger()
	rep = StackReport{Stack: stack}
	s.Env = withEnv(s.Env, "PULUMI_EXPERIMENTAL", "true") // update plans
	op, step, err := s.openRunnable(ctx, stack, program, log, true, &rep)
	if err != nil {
		return failed(rep, step, err)
	}
	if o.refresh {
		if err := refreshState(ctx, op, &o.options, o.backupDir, stack, &rep, nil); err != nil {
			return failed(rep, "refresh", err)
		}
	}

	// Pass A: one preview that refreshes in memory. It serves as the drift
	// check and the plan to judge; for a stack without changes it is the only
	// engine pass.
	log.Info("previewing (refresh in memory, then plan)", "stack", stack)
	p, err := op.firstPlan(ctx, &o, stack, &rep)
	if err != nil {
		return failed(rep, "preview", err)
	}
	p.drift.driftInto(&rep)
	drifted := p.drift.hasDrift()
	if liveBlocks(p.drift, op.policy, stack, &rep) {
		return rep
	}
	op.holdPending(p, &rep)
	rep.Notes = append(rep.Notes, p.overtaken()...)
	if drifted && !o.acceptDrift && !o.refresh {
		return blockedAt(rep, "drift", fmt.Sprintf("the live state of %q has drifted from its state (see changes/unmanaged); re-run with --refresh to refresh the state first (a backup is kept) or --accept-drift to let the program's values win; `deployer reconcile` removes unmanaged rules", stack))
	}

	// Protection lifted from here on is put back unless the update succeeds.
	var lifted []string
	defer func() {
		if len(lifted) > 0 && rep.ExitCode != ExitOK {
			if err := protect(afterCancel(ctx), s, op, lifted); err != nil {
				rep.Notes = append(rep.Notes, "could not put protection back: "+err.Error())
			} else {
				rep.Notes = append(rep.Notes, "protection put back on "+strings.Join(lifted, ", ")+" (the update did not run)")
			}
		}
	}()
	if len(p.protectedReplace) > 0 {
		// The engine will not even plan replacing a protected resource: the
		// guard decides, and an allowed one loses its protection alone.
		var blocked []Blocked
		for _, urn := range p.protectedReplace {
			typ := urnType(urn)
			if !matches(o.allow.Replace, urn, typ) {
				blocked = append(blocked, Blocked{Step: Step{Op: "replace", URN: urn, Type: typ, Protected: true}, Fix: "--allow-replace '" + urn + "'"})
			}
		}
		if len(blocked) > 0 {
			return blockedAt(rep, "guard", guardError(blocked).Error()+"\n(these resources are protected; an allowed replacement lifts protection for that resource alone)")
		}
		if err := unprotect(ctx, s, op, p.protectedReplace, &rep); err != nil {
			return failed(rep, "protection", err)
		}
		lifted = append(lifted, p.protectedReplace...)
		if p, err = op.runPlanPass(ctx, &o.options, o.policyPack, "", true); err != nil {
			return failed(rep, "preview", err)
		}
	}
	rep.Changes = append(rep.Changes, p.changes...)
	if err := errors.Join(impossibleMoves(p.steps), deferredMajorUpgrade(p.changes, p.steps, p.inputs)); err != nil {
		return blockedAt(rep, "guard", err.Error())
	}
	rep.Violations = p.gate(op.policy)
	if bl := policypack.Blocking(rep.Violations); len(bl) > 0 {
		return blockedAt(rep, "policy", fmt.Sprintf("%d mandatory policy violation(s) in the plan (see violations)", len(bl)))
	}
	if blocked := Guard(p.steps, o.allow); len(blocked) > 0 {
		return blockedAt(rep, "guard", guardError(blocked).Error())
	}
	if due := p.drift.loginDue(); due != "" {
		rep.Notes = append(rep.Notes, "the utility functions' owner gets a new loopback login in this update ("+due+")")
	}
	if !p.hasChanges() && p.drift.mappingChange() == nil && p.drift.loginDue() == "" {
		log.Info("no changes: no update", "stack", stack)
		rep.Notes = append(rep.Notes, "the plan has no changes: no update was run")
		return checkInto(ctx, op, o.verify, rep, "clean")
	}
	if (drifted && !o.refresh) || len(p.drift.applied) > 0 {
		// Accepted drift, or modifications RDS applied in its window since
		// the last update (the state's outputs hold the old values, which the
		// provider diffs against): write the live state (backup kept) so the
		// update, run without its own refresh, plans against what runs.
		if len(p.drift.applied) > 0 {
			rep.Notes = append(rep.Notes, "RDS applied the modifications it held for the maintenance window on "+strings.Join(p.drift.applied, ", ")+": the state is refreshed before the update")
		}
		if err := refreshState(ctx, op, &o.options, o.backupDir, stack, &rep, p.drift.pending.urns()); err != nil {
			return failed(rep, "refresh", err)
		}
	}
	unprotected, err := liftProtection(ctx, s, op, &o, p.steps, &rep)
	lifted = append(lifted, unprotected...) // put back unless the update succeeds
	if err != nil {
		return failed(rep, "protection", err)
	}

	// Pass B: the plan the update is held to, on a state that now matches
	// the live one; judged again in case anything moved.
	planDir, err := os.MkdirTemp("", "deployer-plan-")
	if err != nil {
		return failed(rep, "preview", err)
	}
	defer os.RemoveAll(planDir)
	planFile := filepath.Join(planDir, "plan.json")
	if p, err = op.runPlanPass(ctx, &o.options, o.policyPack, planFile, false); err != nil {
		return failed(rep, "preview", err)
	}
	if len(p.protectedReplace) > 0 {
		return failed(rep, "protection", fmt.Errorf("still protected: %s", strings.Join(p.protectedReplace, ", ")))
	}
	if blocked := Guard(p.steps, o.allow); len(blocked) > 0 {
		return failed(rep, "guard", guardError(blocked))
	}
	if bl := policypack.Blocking(p.gate(op.policy)); len(bl) > 0 {
		return failed(rep, "policy", fmt.Errorf("%d mandatory policy violation(s) in the final plan", len(bl)))
	}
	if step, err := op.apply(ctx, s, &o, p, planFile, &rep); err != nil {
		return failed(rep, step, err)
	}
	lifted = nil // the program's protect applies to what the update made
	return checkInto(ctx, op, o.verify, rep, "done")
}

// firstPlan is Pass A: the preview that refreshes in memory. A login refused
// because AWS rotated the admin's password since the last update is followed
// (followCredentials) and the preview runs again; retired resources are
// forgotten and it runs again.
func (op *opened) firstPlan(ctx context.Context, o *upOptions, stack string, rep *StackReport) (*planPass, error) {
	p, err := op.runPlanPass(ctx, &o.options, o.policyPack, "", true)
	if staleLogin(err) {
		if ferr := op.followCredentials(ctx, &o.options, rep); ferr != nil {
			return p, fmt.Errorf("%w\nThe stored credential was not brought up to date: %v", err, ferr)
		}
		p, err = op.runPlanPass(ctx, &o.options, o.policyPack, "", true)
	}
	if err == nil && p.deletesRetired() {
		p, err = op.forgetRetired(ctx, o, stack, rep)
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
		return "up", fmt.Errorf("update: %w%s", cliError(err), refusalHint(err))
	}
	return "", nil
}

// blockedAt is rep stopped at step with result blocked (exit 3).
func blockedAt(rep StackReport, step, msg string) StackReport {
	rep.finish()
	rep.Result, rep.ExitCode, rep.Step, rep.Error = "blocked", ExitBlocked, step, msg
	return rep
}

// liftProtection prepares allowed replacements: Pulumi's protect is lifted in
// the state for exactly those resources, and an RDS instance's deletion
// protection is turned off by a targeted update that changes nothing else.
func liftProtection(ctx context.Context, s Settings, op *opened, o *upOptions, steps []Step, rep *StackReport) ([]string, error) {
	var rdsURNs, lifted []string
	done := map[string]bool{}
	for _, st := range steps {
		if !replaceOps[st.Op] || done[st.URN] {
			continue
		}
		done[st.URN] = true
		if st.Protected {
			if err := unprotect(ctx, s, op, []string{st.URN}, rep); err != nil {
				return lifted, err
			}
			lifted = append(lifted, st.URN)
		}
		if st.Type == policypack.TypeDBInstance {
			rdsURNs = append(rdsURNs, st.URN)
		}
	}
	if len(rdsURNs) == 0 {
		return lifted, nil
	}
	if o.liftProgram == nil {
		return lifted, fmt.Errorf("replacing %s needs its deletion protection turned off first, and no lift program was given", strings.Join(rdsURNs, ", "))
	}
	lift, err := auto.SelectStack(ctx, op.stack.Name(), op.stack.Workspace())
	if err != nil {
		return lifted, err
	}
	ws := lift.Workspace()
	orig := ws.Program()
	ws.SetProgram(o.liftProgram(rdsURNs))
	defer ws.SetProgram(orig)
	uopts := []optup.Option{optup.Target(rdsURNs)}
	if o.progress != nil {
		uopts = append(uopts, optup.ProgressStreams(o.progress))
	}
	if _, err := lift.Up(ctx, uopts...); err != nil {
		return lifted, fmt.Errorf("turn off deletion protection on %s: %w", strings.Join(rdsURNs, ", "), cliError(err))
	}
	rep.Notes = append(rep.Notes, "deletion protection turned off, for the allowed replacement only, on "+strings.Join(rdsURNs, ", "))
	return lifted, nil
}

// unprotect lifts Pulumi's protect in the state for exactly these URNs.
func unprotect(ctx context.Context, s Settings, op *opened, urns []string, rep *StackReport) error {
	if err := setProtect(ctx, s, op, "unprotect", urns); err != nil {
		return err
	}
	for _, urn := range urns {
		rep.Notes = append(rep.Notes, "protection lifted for the allowed replacement of "+urn)
	}
	return nil
}

// protect puts Pulumi's protect back on these URNs.
func protect(ctx context.Context, s Settings, op *opened, urns []string) error {
	return setProtect(ctx, s, op, "protect", urns)
}

// setProtect runs `pulumi state protect|unprotect` for each URN.
func setProtect(ctx context.Context, s Settings, op *opened, verb string, urns []string) error {
	env := envList(s.Env, op.stack.Workspace().GetEnvVars())
	for _, urn := range urns {
		args := []string{"state", verb, urn, "--stack", op.stack.Name(), "--yes"}
		if _, stderr, _, err := s.CLI.Command.Run(ctx, s.ProjectDir, nil, nil, nil, env, args...); err != nil {
			return fmt.Errorf("state %s %s: %v: %s", verb, urn, err, strings.TrimSpace(stderr))
		}
	}
	return nil
}

func withEnv(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range env {
		out[key] = val
	}
	return out
}

func envList(maps ...map[string]string) []string {
	merged := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			merged[k] = v
		}
	}
	var out []string
	for k, v := range merged {
		out = append(out, k+"="+v)
	}
	return out
}

// liveBlocks stops an up over what no update repairs: open databases and
// hand-made utility functions or grants (step "database"), and unmanaged rules
// with a mandatory finding (step "unmanaged"); neither --refresh nor
// --accept-drift helps. It fills rep and reports whether the run stops.
func liveBlocks(c *refreshCollector, pol policypack.Config, stack string, rep *StackReport) bool {
	if found := policypack.Evaluate(c.openDatabases(), pol); len(policypack.Blocking(found)) > 0 {
		rep.Violations = found
		rep.finish()
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "database"
		rep.Error = fmt.Sprintf("%d mandatory finding(s) in the live database that no update repairs (see violations); fix them as each says, then run up again", len(policypack.Blocking(found)))
		return true
	}
	if found := judgeUnmanaged(rep.Unmanaged, pol); len(policypack.Blocking(found)) > 0 {
		rep.Violations = found
		rep.finish()
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "unmanaged"
		rep.Error = unmanagedBlockError(stack, rep.Unmanaged, policypack.Blocking(found)).Error()
		return true
	}
	return false
}
