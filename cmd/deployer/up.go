package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/stacks"
)

// guardFlags are the allow lists and the engine policy pack.
type guardFlags struct {
	allowReplace, allowDelete []string
	policyPack                string
}

func (g *guardFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&g.allowReplace, "allow-replace", nil, "URN or type token that may be replaced (repeatable)")
	cmd.Flags().StringArrayVar(&g.allowDelete, "allow-delete", nil, "URN or type token that may be deleted (repeatable)")
	cmd.Flags().StringVar(&g.policyPack, "policy-pack", "", "also serve this policy pack folder to the engine (policypack/pack; its analyzer is found on PATH or in .tools/policy, or built from the checkout); the deployer's own gate runs either way")
}

// check refuses a --policy-pack that is not a pack's folder, before anything runs.
func (g *guardFlags) check() error {
	if g.policyPack == "" {
		return nil
	}
	_, err := automation.CheckPolicyPack(g.policyPack)
	return err
}

func (g *guardFlags) allow() automation.Allow {
	return automation.Allow{Replace: g.allowReplace, Delete: g.allowDelete}
}

// verifyFlags say whether up runs the live checks: always, unless
// --skip-verify. They log in inside the program, with the credential its
// provider uses; no password is read from the environment.
type verifyFlags struct{ skip bool }

func (v *verifyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&v.skip, "skip-verify", false, "skip the live database checks (the report says they were skipped)")
}

// program is the program that runs the checks, or nil when skipped.
func (v *verifyFlags) program(a *app) pulumi.RunFunc {
	if v.skip {
		return nil
	}
	return a.verifyProgram
}

func newUpCmd(a *app) *cobra.Command {
	var sf stackFlags
	var rf reportFlags
	var gf guardFlags
	var vf verifyFlags
	var acceptDrift, refresh bool
	var backupDir string
	cmd := &cobra.Command{
		Use:   "up --stack NAME",
		Short: "Apply a non-destructive update: refresh, preview, guard, update, verify",
		Long: `up runs the guarded sequence:
  1. refuse a locked stack or one with pending operations from an interrupted run;
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := gf.check(); err != nil {
				return err
			}
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			opts := []automation.UpOption{automation.WithLogger(a.log), automation.WithAllow(gf.allow()),
				automation.WithLiftProgram(func(urns []string) pulumi.RunFunc {
					return stacks.Program(stacks.Options{LiftDeletionProtection: urns})
				})}
			if !sf.quiet {
				opts = append(opts, automation.WithProgress(a.stderr))
			}
			if gf.policyPack != "" {
				opts = append(opts, automation.WithPolicyPack(gf.policyPack))
			}
			if acceptDrift {
				opts = append(opts, automation.AcceptDrift())
			}
			if refresh {
				opts = append(opts, automation.RefreshFirst(backupDir))
			}
			if p := vf.program(a); p != nil {
				opts = append(opts, automation.WithVerify(p))
			}
			return runEach(cmd, a, &sf, rf, "up", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Up(ctx, s, name, a.program, withOpts(opts, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	gf.register(cmd)
	vf.register(cmd)
	cmd.Flags().BoolVar(&acceptDrift, "accept-drift", false, "run over drift; the program's values win where it declares them")
	cmd.Flags().BoolVar(&refresh, "refresh", false, "refresh the state first (a backup of the state is kept)")
	cmd.Flags().StringVar(&backupDir, "backup-dir", "", "where state backups go (default ~/.deployer/backups)")
	return cmd
}

func newPreviewCmd(a *app) *cobra.Command {
	sf := stackFlags{fleet: true}
	var rf reportFlags
	var gf guardFlags
	var detailed bool
	cmd := &cobra.Command{
		Use:   "preview --stack NAME | --all",
		Short: "Plan an update with the policy gate and the guard; changes nothing",
		Long: `preview refreshes in memory, plans against the live state, and judges the plan
with the policy gate and the delete/replace guard. Nothing is written.

Exit codes: 0 no changes or changes planned, 3 blocked (policy or guard), 1 error;
with --detailed-exitcode (as terraform plan's) 2 when changes are planned.`,
		Example: `  # In a pull request (a non-production stack: PR jobs get no production secrets):
  deployer preview --stack dev --policy-pack policypack/pack --markdown "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := gf.check(); err != nil {
				return err
			}
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			opts := []automation.PreviewOption{automation.WithLogger(a.log), automation.WithAllow(gf.allow())}
			if detailed {
				opts = append(opts, automation.DetailedExitCode())
			}
			if !sf.quiet {
				opts = append(opts, automation.WithProgress(a.stderr))
			}
			if gf.policyPack != "" {
				opts = append(opts, automation.WithPolicyPack(gf.policyPack))
			}
			return runEach(cmd, a, &sf, rf, "preview", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Preview(ctx, s, name, a.program, withOpts(opts, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	gf.register(cmd)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when the preview plans changes (as terraform plan -detailed-exitcode)")
	return cmd
}

func newRefreshCmd(a *app) *cobra.Command {
	var sf stackFlags
	var rf reportFlags
	var backupDir string
	cmd := &cobra.Command{
		Use:   "refresh --stack NAME",
		Short: "Write the live state into the stack's state, after keeping a backup",
		Long: `refresh captures the live state (the read-only capture step of drift recovery):
the cloud is not changed, the stack's state is, after a backup whose path is
reported. Exit codes: 0 done, 1 error.`,
		Example: `  deployer refresh --stack prod --backup-dir ./state-backups`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			opts := []automation.RefreshOption{automation.WithLogger(a.log), automation.WithBackupDir(backupDir)}
			if !sf.quiet {
				opts = append(opts, automation.WithProgress(a.stderr))
			}
			return runEach(cmd, a, &sf, rf, "refresh", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Refresh(ctx, s, name, a.program, withOpts(opts, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	cmd.Flags().StringVar(&backupDir, "backup-dir", "", "where state backups go (default ~/.deployer/backups)")
	return cmd
}

func newVerifyCmd(a *app) *cobra.Command {
	var sf stackFlags
	var rf reportFlags
	cmd := &cobra.Command{
		Use:   "verify --stack NAME",
		Short: "Run the live database checks of a deployed stack",
		Long: `verify runs the stack's program in a preview that changes nothing; the program
logs in as the admin with the credential its postgresql provider uses (the current
value of the RDS master secret, read in the run), over sslmode=verify-full, and
checks TLS, PostGIS, the roles' attributes, PUBLIC locked out of the databases, the
audit trail and the utility functions. No password is read from the environment.
Exit codes: 0 pass; 1 a check failed, or the checks could not run (no login, no
deployed instance): never a pass.`,
		Example: `  deployer verify --stack prod --json verify.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			return runEach(cmd, a, &sf, rf, "verify", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Verify(ctx, s, name, a.verifyProgram, withOpts([]automation.VerifyOption{automation.WithLogger(a.log)}, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	return cmd
}

// runEach runs f for every stack the flags name (--parallel at a time for the
// fleet commands, one by one otherwise), then reports.
// With --parallel above 1, each stack's logs and progress lines start with
// "[stack] " (f gets the options that do it, to append to its own).
func runEach(cmd *cobra.Command, a *app, sf *stackFlags, rf reportFlags, command string, s automation.Settings,
	f func(ctx context.Context, name string, per []automation.Option) automation.StackReport) error {
	names, err := sf.names(cmd, s)
	if err != nil {
		return err
	}
	prefixed := sf.parallel > 1 && len(names) > 1
	out := &lockedWriter{w: a.stderr}
	return finish(a, rf, command, s, automation.ForEachStack(cmd.Context(), names, sf.parallel, func(ctx context.Context, name string) automation.StackReport {
		if !prefixed {
			return f(ctx, name, nil)
		}
		per, flush := a.perStack(out, name, sf.quiet)
		defer flush()
		return f(ctx, name, per)
	}))
}

// finish writes the reports and the summary, and returns the exit code.
// A report that cannot be written costs neither the summary nor the other
// reports (the run may have changed the cloud): the exit code is then 1.
func finish(a *app, rf reportFlags, command string, s automation.Settings, reports []automation.StackReport) error {
	if sig := a.cancel.signal(); sig != nil {
		automation.MarkCancelled(reports, cancelExitCode(sig), sig.String())
	}
	r := automation.NewReport(command, version, s.CLI.Version().String(), reports)
	werr := errors.Join(rf.write(r, a.stdout), writeGitHubOutput(r, rf))
	out := a.stdout
	if rf.json == "-" {
		out = a.stderr // stdout carries the JSON report alone
	}
	printSummary(out, a.stderr, r)
	if werr != nil {
		return fmt.Errorf("%w (the run itself exited %d: see the summary above)", werr, r.ExitCode)
	}
	return exitWith(r.ExitCode)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
