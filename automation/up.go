package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/dbconn"
	"github.com/postgis-platform/deployer/policypack"
)

type upOptions struct {
	options
	policyPack  string
	allow       Allow
	acceptDrift bool
	refresh     bool
	backupDir   string
	verify      dbconn.SecretSource
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

// WithVerify runs the live database checks after the update, logging in as
// the admin with password; without it they are skipped (and reported so).
func WithVerify(password dbconn.SecretSource) UpOption {
	return upFunc(func(o *upOptions) { o.verify = password })
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
	op, err := s.openStack(ctx, stack, program, log, true)
	if err != nil {
		return failed(rep, "open", err)
	}
	notes, err := checkRunnable(ctx, s, stack, op.stack)
	rep.Notes = append(rep.Notes, notes...)
	if err != nil {
		return failed(rep, "lock", err)
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
	p, err := op.runPlanPass(ctx, &o.options, o.policyPack, "", true)
	if err == nil && p.deletesRetired() {
		p, err = op.forgetRetired(ctx, &o, stack, &rep)
	}
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
		rep.finish()
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "drift"
		rep.Error = fmt.Sprintf("the live state of %q has drifted from its state (see changes/unmanaged); re-run with --refresh to refresh the state first (a backup is kept) or --accept-drift to let the program's values win; `deployer reconcile` removes unmanaged rules", stack)
		return rep
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
			rep.finish()
			rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "guard"
			rep.Error = guardError(blocked).Error() + "\n(these resources are protected; an allowed replacement lifts protection for that resource alone)"
			return rep
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
		rep.finish()
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "guard"
		rep.Error = err.Error()
		return rep
	}
	rep.Violations = p.gate(op.policy)
	if bl := policypack.Blocking(rep.Violations); len(bl) > 0 {
		rep.finish()
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "policy"
		rep.Error = fmt.Sprintf("%d mandatory policy violation(s) in the plan (see violations)", len(bl))
		return rep
	}
	if blocked := Guard(p.steps, o.allow); len(blocked) > 0 {
		rep.finish()
		rep.Result, rep.ExitCode, rep.Step = "blocked", ExitBlocked, "guard"
		rep.Error = guardError(blocked).Error()
		return rep
	}
	if !p.hasChanges() && p.drift.mappingChange() == nil {
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
	uopts, err := planOptions(planFile, &rep)
	if err != nil {
		return failed(rep, "preview", err)
	}
	log.Info("updating", "stack", stack, "constrained to the previewed plan", len(uopts) > 0)
	if len(op.exclude) > 0 {
		uopts = append(uopts, optup.Exclude(op.exclude))
	}
	if o.progress != nil {
		uopts = append(uopts, optup.ProgressStreams(o.progress))
	}
	if _, err := op.stack.Up(ctx, uopts...); err != nil {
		if ctx.Err() != nil {
			rep.Notes = append(rep.Notes, leftBehind(afterCancel(ctx), s, stack, op.stack)...)
		}
		if isLockError(err) {
			// Another run took the lock after our check: nothing was applied.
			rep.Changes = nil
			rep.Notes = append(rep.Notes, "nothing was applied: another run holds the stack lock")
			return failed(rep, "lock", fmt.Errorf("update: %w", cliError(err)))
		}
		if strings.Contains(err.Error(), noModifications) {
			op.recordRequested(afterCancel(ctx), p, &rep)
		}
		return failed(rep, "up", fmt.Errorf("update: %w", cliError(err)))
	}
	lifted = nil // the program's protect applies to what the update made
	return checkInto(ctx, op, o.verify, rep, "done")
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

// refreshState writes the live state into the stack's state after a backup.
// The record of modifications RDS holds pending (on the instances in keep;
// with keep nil, wherever the state records a deferred setting asked but not
// running) survives it: a refresh would overwrite what was asked with the
// running value, and the next update would ask again.
func refreshState(ctx context.Context, op *opened, o *options, backupDir, stack string, rep *StackReport, keep []string) error {
	raw, exported, err := exportState(ctx, op.stack)
	if err != nil {
		return fmt.Errorf("export state of %q for the backup: %w", stack, err)
	}
	path, err := writeBackup(backupDir, stack, raw)
	if err != nil {
		return err
	}
	rep.Notes = append(rep.Notes, "state backup before refresh: "+path)
	dep, err := parseDeployment(exported)
	if err != nil {
		return fmt.Errorf("read the state export of %q: %w", stack, err)
	}
	before := askedDeferred(dep)
	if keep != nil {
		maps.DeleteFunc(before, func(urn string, _ map[string]asked) bool { return !slices.Contains(keep, urn) })
	}
	if err := refresh(ctx, op, o, stack, path, rep); err != nil {
		return err
	}
	if len(before) == 0 {
		return nil
	}
	return keepAsked(ctx, op, before, path, rep)
}

// refresh runs a state-writing refresh that runs the program, so the
// providers read current credentials (a rotated master password) rather
// than the ones in the state.
func refresh(ctx context.Context, op *opened, o *options, stack, backup string, rep *StackReport) error {
	o.logger().Info("refreshing the state (backup kept)", "stack", stack, "backup", backup)
	ropts := []optrefresh.Option{optrefresh.RunProgram(true)}
	if o.progress != nil {
		ropts = append(ropts, optrefresh.ProgressStreams(o.progress))
	}
	res, err := op.stack.Refresh(ctx, ropts...)
	if err != nil {
		return fmt.Errorf("refresh: %w", cliError(err))
	}
	if rc := res.Summary.ResourceChanges; rc != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("refresh: %d updated from the live state, %d gone", (*rc)["update"], (*rc)["delete"]))
	}
	return nil
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

// backupState exports the stack's state to dir and returns the file. The
// backup holds secrets as the state does, encrypted with the stack's secrets
// provider; `pulumi stack import --file <backup>` restores it.
func backupState(ctx context.Context, st auto.Stack, dir, stack string) (string, error) {
	raw, _, err := exportState(ctx, st)
	if err != nil {
		return "", fmt.Errorf("export state of %q for the backup: %w", stack, err)
	}
	return writeBackup(dir, stack, raw)
}

// writeBackup writes an export (as exportState returns it) to dir, a 0600
// file in a 0700 folder (default ~/.deployer/backups), and returns the file.
func writeBackup(dir, stack string, raw []byte) (string, error) {
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".deployer", "backups")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("backup folder: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.json", stack, time.Now().UTC().Format("20060102T150405.000Z")))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return "", fmt.Errorf("write backup: %w", err)
	}
	return path, nil
}

// exportState runs the CLI's `stack export` without --show-secrets, so every
// secret stays ciphertext, exactly as in the state. (The Automation API's
// Stack.Export passes --show-secrets: its export holds them in plaintext, and
// must never be written anywhere.) It returns the export as the CLI wrote it
// and parsed.
func exportState(ctx context.Context, st auto.Stack) ([]byte, apitype.UntypedDeployment, error) {
	var dep apitype.UntypedDeployment
	ws := st.Workspace()
	var env []string
	if home := ws.PulumiHome(); home != "" {
		env = append(env, "PULUMI_HOME="+home)
	}
	env = append(env, envList(ws.GetEnvVars())...)
	stdout, stderr, _, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env, "stack", "export", "--stack", st.Name())
	if err != nil {
		return nil, dep, fmt.Errorf("stack export: %v: %s", err, strings.TrimSpace(stderr))
	}
	if err := json.Unmarshal([]byte(stdout), &dep); err != nil || dep.Version == 0 {
		// The output is never quoted: it is the state.
		return nil, dep, fmt.Errorf("stack export wrote no state export (%d bytes)", len(stdout))
	}
	return []byte(stdout), dep, nil
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
