package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/stacks"
)

// version is stamped by the Makefile (-ldflags -X main.version=…).
var version = "dev"

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
	// program is the stack program (tests may replace it).
	program pulumi.RunFunc
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
	root.AddCommand(newVersionCmd(a), newDriftCmd(a), newPreviewCmd(a), newUpCmd(a), newRefreshCmd(a), newVerifyCmd(a),
		newReconcileCmd(a), newUnlockCmd(a))
	return root
}

func run(args []string, stdout, stderr io.Writer) int { return runWith(args, stdout, stderr, nil) }

// runWith runs the command with program as the stack program (nil: the platform).
func runWith(args []string, stdout, stderr io.Writer, program pulumi.RunFunc) int {
	if program == nil {
		program = stacks.Platform
	}
	a := &app{stdout: stdout, stderr: stderr, ctx: context.Background(), program: program,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(a.ctx)
	if err == nil {
		return automation.ExitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if !ec.silent {
			fmt.Fprintf(stderr, "deployer: %v\n", err)
		}
		return ec.code
	}
	fmt.Fprintf(stderr, "deployer: %v\n", err)
	return automation.ExitError
}
