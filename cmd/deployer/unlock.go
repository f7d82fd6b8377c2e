package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// unlockOptions are unlock's flags.
type unlockOptions struct {
	stacks stackFlags
	report reportFlags
	force  bool
}

// newUnlockCmd is `deployer unlock`; runF replaces the run (tests of the
// flags).
func newUnlockCmd(a *app, runF func(*cobra.Command, *unlockOptions) error) *cobra.Command {
	o := &unlockOptions{}
	cmd := &cobra.Command{
		Use:   "unlock --stack NAME",
		Short: "Clear a stale stack lock left by a killed run",
		Long: `unlock removes the lock a killed CI runner left behind, only after checking that
the process that took it is not running (on this host); it says what it removed.
A lock from another host needs --force once you know that run is gone.`,
		Example: `  deployer unlock --stack prod`,
		Args:    cobra.NoArgs,
		RunE:    runCmd(o, runF, a.runUnlock),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	cmd.Flags().BoolVar(&o.force, "force", false, "remove a lock taken on another host (check that run is gone first)")
	return cmd
}

// runUnlock clears each stack's stale locks.
func (a *app) runUnlock(cmd *cobra.Command, o *unlockOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "unlock", func(ctx context.Context, s automation.Settings, name string, _ []automation.Option) automation.StackReport {
		return automation.Unlock(ctx, s, name, o.force)
	})
}
