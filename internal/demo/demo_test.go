// Package demo_test runs scripts/demo, the README's first command, as part of
// `make test`: a demo that stops behaving as it shows fails the build.
package demo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

func TestDemoRunsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about a minute; skipped with -short")
	}
	root := testenv.RepoRoot(t)
	pulumiRoot := testenv.PulumiRoot(t)
	standins := testenv.ToolsDir(t, "providers", "standin-cloud")
	if os.Geteuid() != 0 {
		if testenv.Required() {
			t.Fatal("the demo starts PostgreSQL as the postgres user and needs root")
		}
		t.Skip("the demo starts PostgreSQL as the postgres user and needs root; `make demo` runs it")
	}
	bin := filepath.Join(t.TempDir(), "deployer")
	build := exec.Command("go", "build", "-o", bin, "./cmd/deployer")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "demo"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"DEPLOYER_BIN="+bin,
		"DEPLOYER_PULUMI_ROOT="+pulumiRoot,
		"DEPLOYER_STANDIN_DIR="+standins,
		"DEPLOYER_PG_ENV="+filepath.Join(t.TempDir(), "demo-pg.env"),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"Demo complete: every step behaved as shown.", "== 11. What the demo leaves, and what to try next", "no password or passphrase in clear in anything it keeps", "drift is clean"} {
		if !strings.Contains(text, want) {
			t.Fatalf("demo output lacks %q:\n%s", want, text)
		}
	}
}
