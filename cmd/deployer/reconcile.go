package main

import (
	"context"
	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

func newReconcileCmd(a *app) *cobra.Command {
	var sf stackFlags
	var rf reportFlags
	var req automation.ReconcileRequest
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			opts := []automation.ReconcileOption{automation.WithLogger(a.log)}
			if !sf.quiet {
				opts = append(opts, automation.WithProgress(a.stderr))
			}
			return runEach(cmd, a, &sf, rf, "reconcile", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Reconcile(ctx, s, name, a.program, req, withOpts(opts, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	cmd.Flags().StringArrayVar(&req.Remove, "remove", nil, "URN or cloud ID of a resource to drop from the state (repeatable)")
	cmd.Flags().StringArrayVar(&req.DeleteUnmanaged, "delete-unmanaged", nil, "ID of a rule created outside the program to delete from the cloud (repeatable)")
	cmd.Flags().StringVar(&req.StateFile, "state-file", "", "import this edited export (checked first)")
	cmd.Flags().StringToStringVar(&req.Adopt, "adopt", nil, "URN=ID: bring a resource created by hand under management, where the program declares it at URN (repeatable)")
	cmd.Flags().BoolVar(&req.Pending, "pending", false, "resolve pending operations left by an interrupted run (pending creates that exist in the cloud are imported)")
	cmd.Flags().StringToStringVar(&req.ImportPending, "import-pending", nil, "URN=ID of a pending create that exists in the cloud (with --pending; repeatable)")
	cmd.Flags().BoolVar(&req.DryRun, "dry-run", false, "show the edit; import and delete nothing")
	cmd.Flags().StringVar(&req.BackupDir, "backup-dir", "", "where the export is kept (default ~/.deployer/backups)")
	return cmd
}

func newUnlockCmd(a *app) *cobra.Command {
	var sf stackFlags
	var rf reportFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "unlock --stack NAME",
		Short: "Clear a stale stack lock left by a killed run",
		Long: `unlock removes the lock a killed CI runner left behind, only after checking that
the process that took it is not running (on this host); it says what it removed.
A lock from another host needs --force once you know that run is gone.`,
		Example: `  deployer unlock --stack prod`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			return runEach(cmd, a, &sf, rf, "unlock", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Unlock(ctx, s, name, force)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "remove a lock taken on another host (check that run is gone first)")
	return cmd
}
