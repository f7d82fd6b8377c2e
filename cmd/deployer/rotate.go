package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// rotateOptions are rotate's flags.
type rotateOptions struct {
	stacks stackFlags
	report reportFlags
}

// newRotateCmd is `deployer rotate`; runF replaces the run (tests of the
// flags).
func newRotateCmd(a *app, runF func(*cobra.Command, *rotateOptions) error) *cobra.Command {
	o := &rotateOptions{}
	cmd := &cobra.Command{
		Use:   "rotate --stack NAME",
		Short: "Give the utility functions' owner a new loopback login now, without a failed call",
		Long: `rotate gives the utility functions' owner a new loopback login: the login its
user mapping does not name gets a new random password, and the mapping moves to it
in one transaction, so calls in flight keep working. Nothing else changes (an
update targeted at the utility database component alone). The password is kept
only in the mapping. The login left behind stops logging in two minutes later, so
after a suspected leak of the mapping one rotation is enough. deployer up does the
same once the login is older than loopbackLoginMaxAgeDays.
Exit codes: 0 done, 1 error.`,
		Example: `  deployer rotate --stack prod --json rotate.json`,
		Args:    cobra.NoArgs,
		RunE:    runCmd(o, runF, a.runRotate),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	return cmd
}

// runRotate gives each stack's utility functions' owner a new loopback login.
func (a *app) runRotate(cmd *cobra.Command, o *rotateOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "rotate", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Rotate(ctx, s, name, withOpts([]automation.RotateOption(nil), common)...)
	})
}
