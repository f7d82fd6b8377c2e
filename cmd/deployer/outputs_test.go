package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// Every output path is checked before anything runs: a bad one is an error
// naming the flag and the path, exit 1, and nothing is run (not even the
// CLI is looked for).
func TestBadOutputPathsRunNothing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"up", "--json", "/nonexistent/dir/up.json"}, "--json /nonexistent/dir/up.json: its folder does not exist"},
		{[]string{"drift", "--markdown", dir}, "--markdown " + dir + ": is a folder"},
		{[]string{"preview", "--json", filepath.Join(file, "r.json")}, "is not a folder"},
		{[]string{"up", "--refresh", "--backup-dir", filepath.Join(file, "backups")}, "--backup-dir " + filepath.Join(file, "backups")},
		{[]string{"refresh", "--backup-dir", file}, "is not a folder"},
		{[]string{"reconcile", "--delete-unmanaged", "sgr-1", "--backup-dir", file}, "--backup-dir"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Setenv(automation.CLIRootEnv, filepath.Join(dir, "no-cli-here"))
			code, out, errOut := runDeployer(t, append(tc.args, "--stack", "prod")...)
			if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "nothing was run") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nwant %q", code, out, errOut, tc.want)
			}
			if strings.Contains(errOut, "CLI") {
				t.Fatalf("the CLI was looked for before the paths were checked:\n%s", errOut)
			}
		})
	}
}

// A report that cannot be written at the end (the folder went away during
// the run) costs neither the summary nor the other report; the exit code is 1.
func TestReportFailureKeepsTheSummaryAndTheOtherReports(t *testing.T) {
	md := filepath.Join(t.TempDir(), "summary.md")
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr}
	rf := reportFlags{json: "/nonexistent/r.json", markdown: md, limit: automation.DefaultMarkdownLimit}
	reports := []automation.StackReport{{Stack: "prod", Result: "done", ExitCode: automation.ExitOK}}
	cli, err := automation.OpenCLI(context.Background(), testenv.PulumiRoot(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	err = finish(a, rf, "up", automation.Settings{CLI: cli}, nil, reports)
	if err == nil || !strings.Contains(err.Error(), "--json") {
		t.Fatalf("want the --json error, got %v", err)
	}
	if !strings.Contains(stdout.String(), "prod") {
		t.Fatalf("no summary: %q", stdout.String())
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "prod") {
		t.Fatalf("the Markdown report was not written: %v %q", err, b)
	}
}

// With $GITHUB_OUTPUT set, the result, exit code, counts and report paths
// are appended there as key=value lines.
func TestGitHubOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "github_output")
	if err := os.WriteFile(out, []byte("earlier=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(GitHubOutputEnv, out)
	r := automation.Report{ExitCode: automation.ExitChanges, Stacks: []automation.StackReport{
		{Stack: "dev", Result: "clean", ExitCode: automation.ExitOK},
		{Stack: "prod", Result: "drift", ExitCode: automation.ExitChanges, Summary: automation.Summary{Changed: 2, Unmanaged: 1, Violations: 1, BlockingViolations: 1}},
	}}
	if err := writeGitHubOutput(r, reportFlags{json: "drift.json", markdown: "drift.md"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	want := "earlier=1\nresult=drift\nexit-code=2\nstacks=2\nchanged=2\nmissing=0\nunmanaged=1\nviolations=1\nblocking-violations=1\njson=drift.json\nmarkdown=drift.md\n"
	if string(b) != want {
		t.Fatalf("GITHUB_OUTPUT:\n%s\nwant\n%s", b, want)
	}
	t.Setenv(GitHubOutputEnv, "")
	if err := writeGitHubOutput(r, reportFlags{}); err != nil {
		t.Fatalf("without GITHUB_OUTPUT: %v", err)
	}
}
