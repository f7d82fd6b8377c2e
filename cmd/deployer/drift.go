package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// driftOptions are drift's flags.
type driftOptions struct {
	stacks stackFlags
	report reportFlags
}

// newDriftCmd is `deployer drift`; runF replaces the run (tests of the
// flags).
func newDriftCmd(a *app, runF func(*cobra.Command, *driftOptions) error) *cobra.Command {
	o := &driftOptions{stacks: stackFlags{fleet: true}}
	cmd := &cobra.Command{
		Use:   "drift --stack NAME | --all",
		Short: "Audit a stack for drift without changing anything",
		Long: `drift refreshes the stack in preview-only mode: the state is never written and
nothing in the cloud changes. It reports resources changed or deleted outside the
program (with their property diffs), security group rules created by hand, and the
policy baseline evaluated over the live state, so a console edit that opens the
database port is a security finding, not just a diff.

With several stacks (--stack repeated, or --all) they run --parallel at a time and
share one report with a section per stack; the exit code is the worst (1 > 3 > 2 > 0)
and a failing stack never hides the others' results.

Exit codes: 0 clean, 2 drift found, 1 error.`,
		Example: `  # Nightly audit in CI, with a summary on the job page:
  deployer drift --stack prod --json drift.json --markdown "$GITHUB_STEP_SUMMARY"

  # Every stack of the project, four at a time:
  deployer drift --all --parallel 4 --json fleet.json

  # Against a shared PostgreSQL state backend (password from PGPASSWORD):
  deployer drift --stack prod --backend "postgres://deployer@state-db:5432/pulumi?sslmode=verify-full"`,
		Args: cobra.NoArgs,
		RunE: runCmd(o, runF, a.runDrift),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	return cmd
}

// runDrift audits each stack; nothing is changed.
func (a *app) runDrift(cmd *cobra.Command, o *driftOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "drift", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Drift(ctx, s, name, withOpts([]automation.DriftOption(nil), common)...)
	})
}
