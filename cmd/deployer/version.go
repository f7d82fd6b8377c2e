package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the deployer's version and the Pulumi CLI it will use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.Context(), a)
		},
	}
}

// printVersion prints the deployer's version, then finds and checks the
// CLI; a missing or too old CLI is reported on the second line, not an error
// (the version of the deployer is what a pipeline asks for).
func printVersion(ctx context.Context, a *app) error {
	fmt.Fprintf(a.stdout, "deployer %s\n", version)
	if source != "" {
		fmt.Fprintf(a.stdout, "source tree %s (saved plans name the program by it)\n", source)
	}
	cli, err := automation.FindCLI(ctx)
	if err != nil {
		fmt.Fprintf(a.stdout, "pulumi: not usable: %v\n", err)
		return nil
	}
	fmt.Fprintf(a.stdout, "pulumi v%s (%s, found via %s; minimum v%s)\n", cli.Version(), cli.Path, cli.Source, automation.MinCLIVersion)
	return nil
}
