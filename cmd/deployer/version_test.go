package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testenv"
)

// testProgram, when set, replaces the stack program.
var testProgram pulumi.RunFunc

func runDeployer(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runWith(args, &out, &errOut, testProgram)
	return code, out.String(), errOut.String()
}

func TestVersion(t *testing.T) {
	t.Setenv(automation.CLIRootEnv, testenv.PulumiRoot(t))
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := runDeployer(t, args...)
		if code != 0 || !strings.HasPrefix(out, "deployer ") || !strings.Contains(out, "pulumi v3.") {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
	}
}

func TestVersionWithoutCLI(t *testing.T) {
	t.Setenv(automation.CLIRootEnv, t.TempDir())
	code, _, errOut := runDeployer(t, "--version")
	if code != 1 || !strings.Contains(errOut, automation.CLIRootEnv) || !strings.Contains(errOut, "make pulumi") {
		t.Fatalf("exit %d, stderr %q: want 1 naming the variable and the fix", code, errOut)
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, errOut := runDeployer(t, "deploy-everything")
	if code != 1 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// withProgram replaces the stack program for one test.
func withProgram(t *testing.T, p pulumi.RunFunc) {
	t.Helper()
	old := testProgram
	testProgram = p
	t.Cleanup(func() { testProgram = old })
}
