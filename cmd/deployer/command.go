package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// What every stack command shares: flags resolved into settings, the
// sequence run on each stack named, and the report.

// sequence is one stack's run of a command's sequence; opts are the
// options every command passes (the logger and the progress, prefixed per
// stack in a parallel run), to convert with withOpts.
type sequence func(ctx context.Context, s automation.Settings, name string, opts []automation.Option) automation.StackReport

// runStacks resolves the stack flags into settings (nothing runs before they
// are checked), runs seq on every stack named, and reports.
func (a *app) runStacks(cmd *cobra.Command, sf *stackFlags, rf reportFlags, command string, seq sequence) error {
	s, err := sf.settings(cmd)
	if err != nil {
		return err
	}
	s.Program, s.DeployerVersion, s.Source = a.program, version, source
	common := []automation.Option{automation.WithLogger(a.log)}
	if !sf.quiet {
		common = append(common, automation.WithProgress(a.stderr))
	}
	return runEach(cmd, a, sf, rf, command, s, func(ctx context.Context, name string, per []automation.Option) automation.StackReport {
		return seq(ctx, s, name, append(append([]automation.Option{}, common...), per...))
	})
}

// runCmd is a command's RunE: runF when a test injected one, else run.
func runCmd[O any](o *O, runF func(*cobra.Command, *O) error, run func(*cobra.Command, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if runF != nil {
			return runF(cmd, o)
		}
		return run(cmd, o)
	}
}

// runEach runs f for every stack the flags name (--parallel at a time for the
// fleet commands, one by one otherwise), then reports.
// With --parallel above 1, each stack's logs and progress lines start with
// "[stack] " (f gets the options that do it, to append to its own).
func runEach(cmd *cobra.Command, a *app, sf *stackFlags, rf reportFlags, command string, s automation.Settings,
	f func(ctx context.Context, name string, per []automation.Option) automation.StackReport) error {
	names, shard, err := sf.names(cmd, s)
	if err != nil {
		return err
	}
	prefixed := sf.parallel > 1 && len(names) > 1
	out := &lockedWriter{w: a.stderr}
	return finish(a, rf, command, s, shard, automation.ForEachStack(cmd.Context(), names, sf.parallel, func(ctx context.Context, name string) automation.StackReport {
		if !prefixed {
			return f(ctx, name, nil)
		}
		per, flush := a.perStack(out, name, sf.quiet)
		defer flush()
		return f(ctx, name, per)
	}))
}

// finish writes the reports and the summary, and returns the exit code.
// A report that cannot be written costs neither the summary nor the other
// reports (the run may have changed the cloud): the exit code is then 1.
func finish(a *app, rf reportFlags, command string, s automation.Settings, shard *automation.Shard, reports []automation.StackReport) error {
	if sig := a.cancel.signal(); sig != nil {
		automation.MarkCancelled(reports, cancelExitCode(sig), sig.String())
	}
	r := automation.NewReport(command, version, s.CLI.Version().String(), reports)
	r.Shard = shard
	r.Project, _ = s.ProjectName() // the settings were checked: Pulumi.yaml is there
	return a.report(rf, r)
}

// report writes the report where the flags say, prints the summary, and
// returns the report's exit code.
func (a *app) report(rf reportFlags, r automation.Report) error {
	r.FullReport = rf.fullReport()
	werr := errors.Join(rf.write(r, a.stdout), writeGitHubOutput(r, rf))
	out := a.stdout
	if rf.json == "-" {
		out = a.stderr // stdout carries the JSON report alone
	}
	printSummary(out, a.stderr, r)
	if werr != nil {
		return fmt.Errorf("%w (the run itself exited %d: see the summary above)", werr, r.ExitCode)
	}
	return exitWith(r.ExitCode)
}

// exitWith turns a non-zero report exit code into an error carrying it.
func exitWith(code int) error {
	if code == automation.ExitOK {
		return nil
	}
	return &exitCodeError{code: code, err: fmt.Errorf("exit %d", code), silent: true}
}

// flagGroup reads cobra's error for flags of a mutually exclusive group
// given together.
var flagGroup = regexp.MustCompile(`none of the others can be; \[([^\]]*)\] were all set`)

// flagGroupError says in the deployer's words that flags exclude each
// other (cobra names the group, not the fix); other errors pass unchanged.
func flagGroupError(err error) error {
	m := flagGroup.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	names := strings.Fields(m[1])
	for i, n := range names {
		names[i] = "--" + n
	}
	return errors.New(strings.Join(names, " and ") + " exclude each other: use one")
}
