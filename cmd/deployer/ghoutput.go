package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/postgis-platform/deployer/automation"
)

// GitHubOutputEnv is the file GitHub Actions reads a step's outputs from.
const GitHubOutputEnv = "GITHUB_OUTPUT"

// writeGitHubOutput appends the run's result, exit code, counts and report
// paths to $GITHUB_OUTPUT when it is set, as key=value lines a workflow reads
// as steps.<id>.outputs.<key>. No value holds a secret.
func writeGitHubOutput(r automation.Report, rf reportFlags) error {
	path := os.Getenv(GitHubOutputEnv)
	if path == "" {
		return nil
	}
	result := "clean"
	var sum automation.Summary
	for _, s := range r.Stacks {
		if s.ExitCode == r.ExitCode {
			result = string(s.Result)
		}
		sum.Changed += s.Summary.Changed
		sum.Missing += s.Summary.Missing
		sum.Unmanaged += s.Summary.Unmanaged
		sum.Violations += s.Summary.Violations
		sum.BlockingViolations += s.Summary.BlockingViolations
	}
	lines := []string{
		"result=" + result, fmt.Sprintf("exit-code=%d", r.ExitCode), fmt.Sprintf("stacks=%d", len(r.Stacks)),
		fmt.Sprintf("changed=%d", sum.Changed), fmt.Sprintf("missing=%d", sum.Missing), fmt.Sprintf("unmanaged=%d", sum.Unmanaged),
		fmt.Sprintf("violations=%d", sum.Violations), fmt.Sprintf("blocking-violations=%d", sum.BlockingViolations),
	}
	if rf.json != "" && rf.json != "-" {
		lines = append(lines, "json="+rf.json)
	}
	if rf.markdown != "" {
		lines = append(lines, "markdown="+rf.markdown)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("$%s: %w", GitHubOutputEnv, err)
	}
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("$%s: %w", GitHubOutputEnv, err)
	}
	return f.Close()
}
