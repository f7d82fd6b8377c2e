package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// refreshOptions are refresh's flags.
type refreshOptions struct {
	stacks    stackFlags
	report    reportFlags
	backupDir string
}

// newRefreshCmd is `deployer refresh`; runF replaces the run (tests of the
// flags).
func newRefreshCmd(a *app, runF func(*cobra.Command, *refreshOptions) error) *cobra.Command {
	o := &refreshOptions{}
	cmd := &cobra.Command{
		Use:   "refresh --stack NAME",
		Short: "Write the live state into the stack's state, after keeping a backup",
		Long: `refresh captures the live state (the read-only capture step of drift recovery):
the cloud is not changed, the stack's state is, after a backup whose path is
reported. Exit codes: 0 done, 1 error.`,
		Example: `  deployer refresh --stack prod --backup-dir ./state-backups`,
		Args:    cobra.NoArgs,
		RunE:    runCmd(o, runF, a.runRefresh),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	cmd.Flags().StringVar(&o.backupDir, "backup-dir", "", "where state backups go (default ~/.deployer/backups)")
	return cmd
}

// runRefresh writes each stack's live state into its state, after a backup.
func (a *app) runRefresh(cmd *cobra.Command, o *refreshOptions) error {
	opts := []automation.RefreshOption{automation.WithBackupDir(o.backupDir)}
	return a.runStacks(cmd, &o.stacks, o.report, "refresh", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Refresh(ctx, s, name, withOpts(opts, common)...)
	})
}
