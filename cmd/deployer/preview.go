package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// previewOptions are preview's flags.
type previewOptions struct {
	stacks   stackFlags
	report   reportFlags
	guard    guardFlags
	detailed bool
	savePlan string
}

// newPreviewCmd is `deployer preview`; runF replaces the run (tests of the
// flags).
func newPreviewCmd(a *app, runF func(*cobra.Command, *previewOptions) error) *cobra.Command {
	o := &previewOptions{stacks: stackFlags{fleet: true}}
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
		RunE: runCmd(o, runF, a.runPreview),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	o.guard.register(cmd)
	cmd.Flags().BoolVar(&o.detailed, "detailed-exitcode", false, "exit 2 when the preview plans changes (as terraform plan -detailed-exitcode)")
	cmd.Flags().StringVar(&o.savePlan, "save-plan", "", "keep the plan in this file (no secret in clear) for `deployer up --plan`: it applies exactly this plan, or refuses when anything moved since")
	cmd.MarkFlagsMutuallyExclusive("save-plan", "all")
	cmd.MarkFlagsMutuallyExclusive("save-plan", "shard")
	return cmd
}

// runPreview plans each stack and judges the plan; nothing is written.
func (a *app) runPreview(cmd *cobra.Command, o *previewOptions) error {
	if err := o.guard.check(); err != nil {
		return err
	}
	opts := []automation.PreviewOption{automation.WithAllow(o.guard.allow())}
	if o.guard.policyPack != "" {
		opts = append(opts, automation.WithPolicyPack(o.guard.policyPack))
	}
	if o.detailed {
		opts = append(opts, automation.DetailedExitCode())
	}
	if o.savePlan != "" {
		if len(o.stacks.stacks) != 1 {
			return fmt.Errorf("--save-plan keeps one stack's plan: give one --stack")
		}
		opts = append(opts, automation.SavePlan(o.savePlan))
	}
	return a.runStacks(cmd, &o.stacks, o.report, "preview", func(ctx context.Context, s automation.Settings, name string, common []automation.Option) automation.StackReport {
		return automation.Preview(ctx, s, name, withOpts(opts, common)...)
	})
}
