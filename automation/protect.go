package automation

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/stacks"
)

// Protection for allowed replacements: Pulumi's protect and an RDS
// instance's deletion protection are lifted for exactly the resources an
// allowed replacement needs, and put back unless the update succeeds.

// replaceProtected lets the guard decide on replacements of protected
// resources, which the engine will not even plan: one not allowed stops the
// run (step "guard"); an allowed one loses its protection alone (added to
// lifted), and the plan is made again.
func (ss *session) replaceProtected(o *upOptions, p *planPass, lifted *[]string) (*planPass, error) {
	if len(p.protectedReplace) == 0 {
		return p, nil
	}
	var found []Blocked
	for _, urn := range p.protectedReplace {
		typ := urnType(urn)
		if !matches(o.allow.Replace, urn, typ) {
			found = append(found, Blocked{Step: Step{Op: "replace", URN: urn, Type: typ, Protected: true}, Fix: "--allow-replace '" + urn + "'"})
		}
	}
	if len(found) > 0 {
		return nil, blocked("guard", fmt.Errorf("%w\n(these resources are protected; an allowed replacement lifts protection for that resource alone)", guardError(found)))
	}
	if err := ss.unprotect(p.protectedReplace); err != nil {
		return nil, at("protection", err)
	}
	*lifted = append(*lifted, p.protectedReplace...)
	p, err := ss.op.runPlanPass(ss.ctx, ss.o, o.policyPack, "", refreshFromState)
	return p, at("preview", err)
}

// putBackProtection puts Pulumi's protect back on lifted when the run failed
// (err), and says so in the report.
func (ss *session) putBackProtection(lifted []string, err error) {
	if len(lifted) == 0 || err == nil {
		return
	}
	if perr := setProtect(afterCancel(ss.ctx), ss.s, ss.op, "protect", lifted); perr != nil {
		ss.note("could not put protection back: %v", perr)
		return
	}
	ss.note("protection put back on %s (the update did not run)", strings.Join(lifted, ", "))
}

// liftProtection prepares allowed replacements (step "protection"): Pulumi's
// protect is lifted in the state for exactly those resources, and an RDS
// instance's deletion protection is turned off by a targeted update that
// changes nothing else. It returns what it lifted, also on an error.
func (ss *session) liftProtection(o *upOptions, steps []Step) ([]string, error) {
	var rdsURNs, lifted []string
	done := map[string]bool{}
	for _, st := range steps {
		if !replaceOps[st.Op] || done[st.URN] {
			continue
		}
		done[st.URN] = true
		if st.Protected {
			if err := ss.unprotect([]string{st.URN}); err != nil {
				return lifted, at("protection", err)
			}
			lifted = append(lifted, st.URN)
		}
		if st.Type == baseline.TypeDBInstance {
			rdsURNs = append(rdsURNs, st.URN)
		}
	}
	if len(rdsURNs) == 0 {
		return lifted, nil
	}
	return lifted, at("protection", ss.liftDeletionProtection(o, rdsURNs))
}

// liftDeletionProtection turns off the deletion protection of the RDS
// instances urns with an update targeted at them, run with the program's
// variant that changes that alone (stacks.Options.LiftDeletionProtection).
func (ss *session) liftDeletionProtection(o *upOptions, urns []string) error {
	lift, err := auto.SelectStack(ss.ctx, ss.op.stack.Name(), ss.op.stack.Workspace())
	if err != nil {
		return err
	}
	ws := lift.Workspace()
	orig := ws.Program()
	ws.SetProgram(ss.program(stacks.Options{LiftDeletionProtection: urns}))
	defer ws.SetProgram(orig)
	uopts := []optup.Option{optup.Target(urns)}
	if o.progress != nil {
		uopts = append(uopts, optup.ProgressStreams(o.progress))
	}
	if _, err := lift.Up(ss.ctx, uopts...); err != nil {
		return fmt.Errorf("turn off deletion protection on %s: %w", strings.Join(urns, ", "), cliError(err))
	}
	ss.note("deletion protection turned off, for the allowed replacement only, on %s", strings.Join(urns, ", "))
	return nil
}

// unprotect lifts Pulumi's protect in the state for exactly these URNs.
func (ss *session) unprotect(urns []string) error {
	if err := setProtect(ss.ctx, ss.s, ss.op, "unprotect", urns); err != nil {
		return err
	}
	for _, urn := range urns {
		ss.note("protection lifted for the allowed replacement of %s", urn)
	}
	return nil
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
