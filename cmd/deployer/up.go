package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// upOptions are up's flags.
type upOptions struct {
	stacks                           stackFlags
	report                           reportFlags
	guard                            guardFlags
	skipVerify, acceptDrift, refresh bool
	whilePaused                      bool
	plan                             string
	backupDir                        string
}

// newUpCmd is `deployer up`; runF replaces the run (tests of the flags).
func newUpCmd(a *app, runF func(*cobra.Command, *upOptions) error) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up --stack NAME",
		Short: "Apply a non-destructive update: refresh, preview, guard, update, verify",
		Long: `up runs the guarded sequence:
  1. refuse a locked stack or one with pending operations from an interrupted run;
     a stack deployer pause paused stops the run (exit 3) unless --while-paused;
  2. one preview that refreshes in memory: drift stops the run (exit 3) unless
     --accept-drift, or --refresh (refresh the state first, keeping a backup);
  3. the policy gate over the planned resources; the update plan is saved;
  4. the guard: any delete or replacement stops the run (exit 3) unless its URN or
     type is given with --allow-replace / --allow-delete; an allowed replacement of
     a protected resource lifts protection for that resource alone;
  5. nothing changes: no update at all;
  6. the update, constrained to the saved plan;
  7. the live database checks, logged in with the admin credential the provider
     uses (the current RDS master secret); a check that cannot run fails the
     run (exit 1). --skip-verify is the only way to skip them.

Exit codes: 0 done, 3 blocked, 1 error.`,
		Example: `  # On merge to main:
  deployer up --stack prod --json up.json --markdown "$GITHUB_STEP_SUMMARY"

  # After a console edit: capture the live state first (a backup is kept):
  deployer up --stack prod --refresh

  # A change that replaces the ETL rule, allowed explicitly:
  deployer up --stack prod --allow-replace 'urn:pulumi:prod::postgis-platform::postgis:securitygroup:SecurityGroup$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::postgis-in-etl'`,
		Args: cobra.NoArgs,
		RunE: runCmd(o, runF, a.runUp),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	o.guard.register(cmd)
	cmd.Flags().BoolVar(&o.skipVerify, "skip-verify", false, "skip the live database checks (the report says they were skipped)")
	cmd.Flags().BoolVar(&o.acceptDrift, "accept-drift", false, "run over drift; the program's values win where it declares them")
	cmd.Flags().BoolVar(&o.refresh, "refresh", false, "refresh the state first (a backup of the state is kept)")
	cmd.Flags().StringVar(&o.backupDir, "backup-dir", "", "where state backups go (default ~/.deployer/backups)")
	cmd.Flags().StringVar(&o.plan, "plan", "", "apply exactly the plan `deployer preview --save-plan` kept, with its allow-list; refused (exit 3) when the file was edited, or the state, the config, the deployer or the live state moved since")
	for _, f := range []string{"allow-replace", "allow-delete", "accept-drift", "refresh"} {
		cmd.MarkFlagsMutuallyExclusive("plan", f)
	}
	cmd.Flags().BoolVar(&o.whilePaused, "while-paused", false, "run on a stack `deployer pause` paused: the operator's own update in a recovery")
	return cmd
}

// runUp runs the guarded update on each stack. The live checks log in
// inside the program, with the credential its provider uses; no password is
// read from the environment.
func (a *app) runUp(cmd *cobra.Command, o *upOptions) error {
	if err := o.guard.check(); err != nil {
		return err
	}
	opts := []automation.UpOption{automation.WithAllow(o.guard.allow())}
	if o.guard.policyPack != "" {
		opts = append(opts, automation.WithPolicyPack(o.guard.policyPack))
	}
	if o.acceptDrift {
		opts = append(opts, automation.AcceptDrift())
	}
	if o.refresh {
		opts = append(opts, automation.RefreshFirst(o.backupDir))
	}
	if o.whilePaused {
		opts = append(opts, automation.WhilePaused())
	}
	if o.plan != "" {
		if len(o.stacks.stacks) != 1 {
			return fmt.Errorf("--plan applies one stack's plan: give one --stack")
		}
		opts = append(opts, automation.WithPlan(o.plan))
	}
	if !o.skipVerify {
		opts = append(opts, automation.WithVerify())
	}
	return a.runStacks(cmd, &o.stacks, o.report, "up", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Up(ctx, s, name, withOpts(opts, common)...)
	})
}
