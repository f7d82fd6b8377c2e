package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// pauseOptions are pause's flags.
type pauseOptions struct {
	stacks stackFlags
	report reportFlags
	reason string
}

// newPauseCmd is `deployer pause`; runF replaces the run (tests of the
// flags).
func newPauseCmd(a *app, runF func(*cobra.Command, *pauseOptions) error) *cobra.Command {
	o := &pauseOptions{}
	cmd := &cobra.Command{
		Use:   "pause --stack NAME --reason TEXT",
		Short: "Stop CI's up on a stack while an operator recovers it",
		Long: `pause records a pause with the stack, in its state backend, where every runner
sees it: the first step of a drift recovery, so no pipeline races the
reconciliation. While it holds, up exits 3 naming who paused, when and why;
drift and preview still run and say the stack is paused; the operator's own
reconcile, refresh and up --while-paused run. deployer resume ends it.
Exit codes: 0 paused; 1 error (no reason, no such stack, already paused).`,
		Example: `  deployer pause --stack prod --reason "reconciling the ETL rule edited in the console (INC-4211)"
  deployer reconcile --stack prod --delete-unmanaged sgr-0abc
  deployer up --stack prod --while-paused
  deployer resume --stack prod`,
		Args: cobra.NoArgs,
		RunE: runCmd(o, runF, a.runPause),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the stack is paused (one line; shown to every run until resume)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// runPause pauses each stack.
func (a *app) runPause(cmd *cobra.Command, o *pauseOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "pause", func(ctx context.Context, s automation.Settings, name string, _ []automation.Option) automation.StackReport {
		return automation.PauseStack(ctx, s, name, o.reason)
	})
}

// resumeOptions are resume's flags.
type resumeOptions struct {
	stacks stackFlags
	report reportFlags
}

// newResumeCmd is `deployer resume`; runF replaces the run (tests of the
// flags).
func newResumeCmd(a *app, runF func(*cobra.Command, *resumeOptions) error) *cobra.Command {
	o := &resumeOptions{}
	cmd := &cobra.Command{
		Use:   "resume --stack NAME",
		Short: "End a stack's pause: CI's up runs again",
		Long: `resume removes the pause deployer pause recorded; a stack that is not paused
is noted, not an error. Exit codes: 0 done, 1 error.`,
		Example: `  deployer resume --stack prod`,
		Args:    cobra.NoArgs,
		RunE:    runCmd(o, runF, a.runResume),
	}
	o.stacks.register(cmd)
	o.report.register(cmd)
	return cmd
}

// runResume ends each stack's pause.
func (a *app) runResume(cmd *cobra.Command, o *resumeOptions) error {
	return a.runStacks(cmd, &o.stacks, o.report, "resume", func(ctx context.Context, s automation.Settings, name string, _ []automation.Option) automation.StackReport {
		return automation.ResumeStack(ctx, s, name)
	})
}
