package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
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
	code, out, errOut := runDeployer(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "deployer ") || !strings.Contains(out, "pulumi: not usable") ||
		!strings.Contains(out, automation.CLIRootEnv) || !strings.Contains(out, "make pulumi") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want 0, the version, and the missing CLI named with its fix", code, out, errOut)
	}
}

// The Makefile's stamp reaches the binary: -X main.version.
func TestStampedVersion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "deployer")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7-stamped -X main.source=4b825dc642cb6eb9a060e54bf8d69288fbee4904", "-o", bin, "./cmd/deployer")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), automation.CLIRootEnv+"="+t.TempDir())
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "deployer v9.8.7-stamped\nsource tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904 ") {
		t.Fatalf("--version: %v %q", err, out)
	}
	mk, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "Makefile"))
	if err != nil || !strings.Contains(string(mk), "-X main.version=") || !strings.Contains(string(mk), "-X main.source=") {
		t.Fatalf("the Makefile does not stamp main.version: %v", err)
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

// --json - writes the JSON report alone to stdout; the summary goes to stderr.
func TestJSONToStdout(t *testing.T) {
	d := deployLocal(t)
	code, out, errOut := d.deployer(t, "drift", "--json", "-", "--quiet")
	var r automation.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || r.SchemaVersion != automation.SchemaVersion || len(r.Stacks) != 1 {
		t.Fatalf("stdout is not the report alone (exit %d, %v):\n%s", code, err, out)
	}
	if !strings.Contains(errOut, "local: clean (exit 0)") {
		t.Fatalf("the summary is not on stderr:\n%s", errOut)
	}
	if _, err := os.Stat("-"); err == nil { // the process's working directory
		t.Fatal("a file named - was written")
	}
}
