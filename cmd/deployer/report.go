package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// newReportCmd is `deployer report`, the commands over reports already
// written.
func newReportCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with reports already written (merge the shards of a fleet run)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newReportMergeCmd(a, nil))
	return cmd
}

// mergeOptions are report merge's flags and files.
type mergeOptions struct {
	report reportFlags
	files  []string
}

// newReportMergeCmd is `deployer report merge`; runF replaces the run
// (tests of the flags).
func newReportMergeCmd(a *app, runF func(*cobra.Command, *mergeOptions) error) *cobra.Command {
	o := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge REPORT.json... [--json all.json] [--markdown all.md]",
		Short: "Combine the reports of a fleet run in shards into one, with the worst exit code",
		Long: `merge reads the JSON reports of one command run on several runners (drift or
preview with --shard i/n) and writes one report, as if one runner had run every
stack: its exit code is the worst of the stacks' (1 > 3 > 2 > 0), and it exits
with it. It refuses reports of different commands or projects, a stack in two
reports, a shard given twice or missing, and a stack of the fleet that no report
holds, naming each, and then writes nothing.

Exit codes: the merged report's; 1 when the reports do not merge.`,
		Example: `  # After a matrix of three runners each ran: deployer drift --all --shard N/3 --json drift-N.json
  deployer report merge drift-1.json drift-2.json drift-3.json --json drift.json --markdown "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if runF != nil {
				return runF(cmd, o)
			}
			return a.runMerge(cmd, o)
		},
	}
	o.report.register(cmd)
	return cmd
}

// runMerge reads every report, merges them, and writes the result.
func (a *app) runMerge(cmd *cobra.Command, o *mergeOptions) error {
	if err := checkOutputs(cmd); err != nil {
		return err
	}
	var parts []automation.ReportPart
	for _, f := range o.files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("report %s: %w", f, err)
		}
		var r automation.Report
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("report %s is not a deployer JSON report (--json): %v", f, err)
		}
		parts = append(parts, automation.ReportPart{Source: f, Report: r})
	}
	merged, err := automation.MergeReports(parts, version)
	if err != nil {
		return err
	}
	return a.report(o.report, merged)
}
