package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
)

// runBinary runs bin/deployer as a pipeline does: a real process, its own
// stdout and stderr, the exit code it returns.
func (d *deployed) runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(deployerBinary(t), append(args, "--project-dir", d.Settings.ProjectDir, "--backend", d.Settings.BackendURL)...)
	cmd.Env = os.Environ()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

// reportBinary is report through bin/deployer, as a pipeline runs it.
func (d *deployed) reportBinary(t *testing.T, args ...string) (int, automation.StackReport, string) {
	t.Helper()
	return d.reportVia(t, func(args ...string) (int, string, string) {
		return d.runBinary(t, append(args, "--stack", d.Name)...)
	}, args...)
}

// The CI contract's items 1, 2 and 5 through the binary: a bad output path
// runs nothing; a typo'd stack is an error listing the known ones and is
// never created; preview exits 0 with changes unless --detailed-exitcode.
func TestPipelineContractThroughTheBinary(t *testing.T) {
	d := deployLocal(t)
	d.setConfig(t, "etlCidr", "10.20.31.0/24")
	before := d.state(t)

	code, out, errOut := d.runBinary(t, "up", "--stack", d.Name, "--json", "/nonexistent/up.json", "--quiet")
	if code != 1 || !strings.Contains(errOut, "--json") || !strings.Contains(errOut, "nothing was run") || d.state(t) != before {
		t.Fatalf("up --json /nonexistent/up.json: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = d.runBinary(t, "up", "--stack", "prdo", "--quiet")
	if code != 1 || !strings.Contains(errOut, `stack "prdo" does not exist`) || !strings.Contains(errOut, "known stacks: local") {
		t.Fatalf("up --stack prdo: exit %d\n%s\n%s", code, out, errOut)
	}
	if m, _ := filepath.Glob(filepath.Join(d.StateDir, ".pulumi", "stacks", "*", "prdo*")); len(m) != 0 {
		t.Fatalf("a stack prdo was created: %v", m)
	}

	code, out, errOut = d.runBinary(t, "preview", "--stack", d.Name, "--json", "-", "--quiet")
	var r automation.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json - did not put the report alone on stdout: %v\n%s", err, out)
	}
	if code != 0 || r.ExitCode != 0 || r.Stacks[0].Result != "changes" || !strings.Contains(errOut, d.Name+": changes (exit 0)") {
		t.Fatalf("preview with a change: exit %d %+v\n%s", code, r.Stacks[0], errOut)
	}
	if code, out, errOut := d.runBinary(t, "preview", "--stack", d.Name, "--detailed-exitcode", "--quiet"); code != 2 {
		t.Fatalf("preview --detailed-exitcode with a change: exit %d\n%s\n%s", code, out, errOut)
	}
	if d.state(t) != before {
		t.Fatal("a preview changed the state")
	}
}
