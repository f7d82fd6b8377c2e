package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// verifyOptions are verify's flags.
type verifyOptions struct {
	stacks stackFlags
	report reportFlags
}

// newVerifyCmd is `deployer verify`; runF replaces the run (tests of the
// flags).
func newVerifyCmd(a *app, runF func(*cobra.Command, *verifyOptions) error) *cobra.Command {
	o := &verifyOptions{}
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
		RunE:    runCmd(o, runF, a.runVerify),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	return cmd
}

// runVerify runs the live database checks of each stack.
func (a *app) runVerify(cmd *cobra.Command, o *verifyOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "verify", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Verify(ctx, s, name, withOpts([]automation.VerifyOption(nil), common)...)
	})
}
