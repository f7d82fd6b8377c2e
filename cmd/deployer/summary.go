package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/postgis-platform/deployer/automation"
)

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
		for _, ig := range s.Ignored {
			fmt.Fprintf(out, "  ignored  %s %s (%s, until %s)\n", automation.ResourceName(ig.URN), ig.Property, ig.Reason, ig.Expires)
		}
		for _, u := range s.Unmanaged {
			fmt.Fprintf(out, "  unmanaged %s\n", u)
		}
		for _, v := range s.Violations {
			fmt.Fprintf(out, "  policy %s %s on %s: %s\n", v.Level, v.Rule, automation.ResourceName(v.URN), v.Message)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
	}
}
