package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

func newDriftCmd(a *app) *cobra.Command {
	sf := stackFlags{fleet: true}
	var rf reportFlags
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sf.settings(cmd)
			if err != nil {
				return err
			}
			opts := []automation.DriftOption{automation.WithLogger(a.log)}
			if !sf.quiet {
				opts = append(opts, automation.WithProgress(a.stderr))
			}
			return runEach(cmd, a, &sf, rf, "drift", s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
				return automation.Drift(ctx, s, name, a.program, withOpts(opts, per)...)
			})
		},
	}
	sf.register(cmd)
	rf.register(cmd)
	return cmd
}

// printSummary writes the human summary of a report to out, and each
// stack's error to errw (a pipeline reading stdout sees results, its log the
// errors).
func printSummary(out, errw io.Writer, r automation.Report) {
	for _, s := range r.Stacks {
		fmt.Fprintf(out, "%s: %s (exit %d)\n", s.Stack, s.Result, s.ExitCode)
		if s.Error != "" {
			// Every line of a long error keeps its stack.
			msg := strings.ReplaceAll(s.Error, "\n", "\ndeployer: ["+s.Stack+"] ")
			fmt.Fprintf(errw, "deployer: [%s] stopped at %s: %s\n", s.Stack, s.Step, msg)
		}
		for _, c := range s.Checks {
			if !c.OK {
				fmt.Fprintf(out, "  check failed: %s: found %s; fix: %s\n", c.Name, c.Found, c.Fix)
			}
		}
		for _, c := range s.Changes {
			fmt.Fprintf(out, "  %-8s %s (%s", c.Kind, c.Name, c.Type)
			if c.ID != "" {
				fmt.Fprintf(out, " %s", c.ID)
			}
			fmt.Fprint(out, ")")
			for _, p := range c.Properties {
				fmt.Fprintf(out, " %s", p.Path)
			}
			fmt.Fprintln(out)
		}
		for _, c := range s.Pending {
			for _, p := range c.Properties {
				fmt.Fprintf(out, "  pending  %s (%s) %s: %v asked, %v running (until the maintenance window)\n", c.Name, c.Type, p.Path, p.State, p.Live)
			}
		}
		for _, u := range s.Unmanaged {
			fmt.Fprintf(out, "  unmanaged %s\n", u)
		}
		for _, v := range s.Violations {
			fmt.Fprintf(out, "  policy %s %s on %s: %s\n", v.Level, v.Rule, v.URN[lastSep(v.URN):], v.Message)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
	}
}

func lastSep(urn string) int {
	for i := len(urn) - 2; i >= 0; i-- {
		if urn[i:i+2] == "::" {
			return i + 2
		}
	}
	return 0
}

// exitWith turns a non-zero report exit code into an error carrying it.
func exitWith(code int) error {
	if code == automation.ExitOK {
		return nil
	}
	return &exitCodeError{code: code, err: fmt.Errorf("exit %d", code), silent: true}
}
