package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// version is stamped by the Makefile (-ldflags -X main.version=…).
var version = "dev"

// source is the git tree hash of the source the binary was built from,
// stamped by the Makefile (empty for uncommitted changes): saved plans name
// the program by it.
var source = ""

// exitCodeError carries a specific exit code out of a command.
type exitCodeError struct {
	code int
	err  error
	// silent: the report already said it all; print nothing more.
	silent bool
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// app holds what every command shares: its output streams and the hooks tests
// replace.
type app struct {
	stdout, stderr io.Writer
	ctx            context.Context
	log            *slog.Logger
	// program makes the stack program (nil: automation's default, the
	// stacks program; tests replace it).
	program automation.Program
	// sharedLog is log for other goroutines (the signal watch).
	sharedLog atomic.Pointer[slog.Logger]
	// cancel is the signal watch (nil in tests run in process).
	cancel *signalCancel
	// newLogger makes a logger like log (its format and level) on another
	// writer, for the prefixed lines of parallel stacks.
	newLogger func(io.Writer) *slog.Logger
}

// setLog sets the logger every part of the run uses.
func (a *app) setLog(l *slog.Logger) {
	a.log = l
	a.sharedLog.Store(l)
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "deployer",
		Short: "Stand up and guard PostGIS databases on AWS",
		Long: `deployer runs the PostGIS platform stacks through the Pulumi Automation API.

Exit codes: 0 clean, 1 error, 2 changes or drift present, 3 blocked.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var lf logFlags
	lf.register(root)
	root.PersistentPreRunE = lf.useLogger(a)
	showVersion := root.Flags().Bool("version", false, "print the deployer's and the Pulumi CLI's versions")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			return printVersion(cmd.Context(), a)
		}
		return cmd.Help()
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.AddCommand(newVersionCmd(a), newDriftCmd(a, nil), newPreviewCmd(a, nil), newUpCmd(a, nil), newRefreshCmd(a, nil),
		newVerifyCmd(a, nil), newReconcileCmd(a, nil), newUnlockCmd(a, nil), newRotateCmd(a, nil), newReportCmd(a),
		newPauseCmd(a, nil), newResumeCmd(a, nil))
	return root
}

// run is the process's command: SIGINT and SIGTERM cancel it gracefully.
func run(args []string, stdout, stderr io.Writer) int {
	a := newApp(stdout, stderr, nil)
	ctx, sc, stop := watchSignals(context.Background(), a.sharedLog.Load)
	defer stop()
	a.ctx, a.cancel = ctx, sc
	return a.execute(args)
}

// runWith runs the command with program as the stack program (nil: the platform).
func runWith(args []string, stdout, stderr io.Writer, program pulumi.RunFunc) int {
	return newApp(stdout, stderr, program).execute(args)
}

func newApp(stdout, stderr io.Writer, program pulumi.RunFunc) *app {
	a := &app{stdout: stdout, stderr: stderr, ctx: context.Background()}
	if program != nil {
		a.program = automation.OneProgram(program)
	}
	a.setLog(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	return a
}

// execute runs the command line and returns the exit code.
func (a *app) execute(args []string) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(a.ctx)
	if err == nil {
		return automation.ExitOK
	}
	err = flagGroupError(err)
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if !ec.silent {
			fmt.Fprintf(a.stderr, "deployer: %v\n", err)
		}
		return ec.code
	}
	fmt.Fprintf(a.stderr, "deployer: %v\n", err)
	if sig := a.cancel.signal(); sig != nil {
		fmt.Fprintf(a.stderr, "deployer: cancelled by %s\n", sig)
		return cancelExitCode(sig)
	}
	return automation.ExitError
}
