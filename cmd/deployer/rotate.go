package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

func newRotateCmd(a *app) *cobra.Command {
	var sf stackFlags
	var rf reportFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			opts := []automation.RotateOption{automation.WithLogger(a.log)}
			if !sf.quiet {
				opts = append(opts, automation.WithProgress(a.stderr))
			}
			return runEach(cmd, a, &sf, rf, "rotate", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Rotate(ctx, s, name, a.rotateProgram, withOpts(opts, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	return cmd
}
