package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// reconcileOptions are reconcile's flags.
type reconcileOptions struct {
	stacks stackFlags
	report reportFlags
	req    automation.ReconcileRequest
}

// newReconcileCmd is `deployer reconcile`; runF replaces the run (tests of
// the flags).
func newReconcileCmd(a *app, runF func(*cobra.Command, *reconcileOptions) error) *cobra.Command {
	o := &reconcileOptions{}
	cmd := &cobra.Command{
		Use:   "reconcile --stack NAME (--remove URN|ID | --delete-unmanaged RULE-ID | --adopt URN=ID | --pending | --state-file FILE)",
		Short: "Bring the state back in line after changes made outside the program",
		Long: `reconcile is the drift-recovery step for orphans. It exports the stack (the
export is kept, and its path reported), removes the resources named by URN or by the
cloud ID they hold (e.g. a rule deleted by hand), refuses when anything left in the
state still depends on them, imports the result, and previews what the next up
would change. --delete-unmanaged deletes a rule created outside the program from the
cloud (it is imported under its own name, then destroyed alone). --adopt brings a
resource made by hand under management where the program declares it. --pending resolves
the pending operations of an interrupted run: a pending create that exists in the
cloud is imported (not created twice), the rest are dropped and the state refreshed.
--state-file
imports an edited export instead; a corrupt or inconsistent one is refused before
anything is imported. --dry-run shows the edit and imports nothing.

Exit codes: 0 done, 2 changes shown by --dry-run, 1 error.`,
		Example: `  # After deployer drift listed sgr-0abc as an unmanaged rule:
  deployer reconcile --stack prod --delete-unmanaged sgr-0abc

  # A rule deleted in the console: drop it from the state, see what up would do:
  deployer reconcile --stack prod --remove sgr-0def --dry-run

  # A rule made by hand that the program now declares: adopt it instead of re-creating it:
  deployer reconcile --stack prod --adopt 'urn:pulumi:prod::postgis-platform::postgis:securitygroup:SecurityGroup$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::postgis-in-etl=sgr-0abc'

  # After a CI runner was killed mid-update (deployer unlock first):
  deployer reconcile --stack prod --pending`,
		Args: cobra.NoArgs,
		RunE: runCmd(o, runF, a.runReconcile),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	cmd.Flags().StringArrayVar(&o.req.Remove, "remove", nil, "URN or cloud ID of a resource to drop from the state (repeatable)")
	cmd.Flags().StringArrayVar(&o.req.DeleteUnmanaged, "delete-unmanaged", nil, "ID of a rule created outside the program to delete from the cloud (repeatable)")
	cmd.Flags().StringVar(&o.req.StateFile, "state-file", "", "import this edited export (checked first)")
	cmd.Flags().StringToStringVar(&o.req.Adopt, "adopt", nil, "URN=ID: bring a resource created by hand under management, where the program declares it at URN (repeatable)")
	cmd.Flags().BoolVar(&o.req.Pending, "pending", false, "resolve pending operations left by an interrupted run (pending creates that exist in the cloud are imported)")
	cmd.Flags().StringToStringVar(&o.req.ImportPending, "import-pending", nil, "URN=ID of a pending create that exists in the cloud (with --pending; repeatable)")
	cmd.Flags().BoolVar(&o.req.DryRun, "dry-run", false, "show the edit; import and delete nothing")
	cmd.Flags().StringVar(&o.req.BackupDir, "backup-dir", "", "where the export is kept (default ~/.deployer/backups)")
	return cmd
}

// runReconcile brings each stack's state back in line as the request says.
func (a *app) runReconcile(cmd *cobra.Command, o *reconcileOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "reconcile", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Reconcile(ctx, s, name, o.req, withOpts([]automation.ReconcileOption(nil), common)...)
	})
}
