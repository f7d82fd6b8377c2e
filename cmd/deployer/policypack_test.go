package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// pathWithout is PATH without any folder holding the policy analyzer.
func pathWithout(name string) string {
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			keep = append(keep, dir)
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// freshCheckout copies what the policy analyzer is built from (go.mod, go.sum,
// the packages it imports, the pack folder) to a folder that has no .tools,
// as a fresh clone has before `make standins`.
func freshCheckout(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot(t)
	list := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}", "./policypack/analyzer")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	dirs := append(strings.Fields(string(out)), filepath.Join(root, "policypack", "pack"))
	for _, dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		files, _ := os.ReadDir(dir)
		if err := os.MkdirAll(filepath.Join(dst, rel), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f.Name(), "_test.go") {
				continue
			}
			if f.IsDir() {
				// Embedded files (sqlfuncs/sql); packages are listed apart.
				sub, _ := filepath.Glob(filepath.Join(dir, f.Name(), "*.sql"))
				for _, file := range sub {
					_ = os.MkdirAll(filepath.Join(dst, rel, f.Name()), 0o755)
					copyFile(t, file, filepath.Join(dst, rel, f.Name(), filepath.Base(file)))
				}
				continue
			}
			copyFile(t, filepath.Join(dir, f.Name()), filepath.Join(dst, rel, f.Name()))
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(dst, f))
	}
	return dst
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// `--policy-pack policypack/pack` from a fresh checkout, as the docs and the
// example workflow give it, with no analyzer on PATH and none built: the
// deployer builds the one it ships (once, into the user cache), the engine
// loads the pack with the stack's policy config, and the preview passes.
func TestPolicyPackFromACheckout(t *testing.T) {
	d := deployLocal(t)
	checkout := freshCheckout(t)
	cache := t.TempDir()
	// The deployer's cache moves; Go's build cache stays where it is.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"preview", "--policy-pack", "policypack/pack", "--stack", d.Name, "--project-dir", d.Settings.ProjectDir, "--backend", d.Settings.BackendURL}
	for i := 0; i < 2; i++ {
		cmd := exec.Command(deployerBinary(t), args...)
		cmd.Dir = checkout
		cmd.Env = append(os.Environ(), "PATH="+pathWithout(automation.AnalyzerName), "XDG_CACHE_HOME="+cache, "GOCACHE="+strings.TrimSpace(string(gocache)))
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("preview --policy-pack policypack/pack (run %d): %v\n%s\n%s", i+1, err, out.String(), errOut.String())
		}
		built := strings.Contains(errOut.String(), "building the policy pack's analyzer")
		if built != (i == 0) {
			t.Fatalf("run %d: built the analyzer: %v (want only on the first run)\n%s", i+1, built, errOut.String())
		}
		if !strings.Contains(errOut.String(), "postgis-baseline") {
			t.Fatalf("the engine did not load the pack:\n%s", errOut.String())
		}
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "deployer", "policy-analyzer", "*", automation.AnalyzerName)); len(m) != 1 {
		t.Fatalf("analyzers in the cache: %v", m)
	}
}

// A --policy-pack that is not a pack's folder fails before anything runs.
func TestPolicyPackThatIsNoPack(t *testing.T) {
	for _, pack := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		code, out, errOut := runDeployer(t, "preview", "--stack", "local", "--policy-pack", pack)
		if code != 1 || !strings.Contains(errOut, "--policy-pack") || !strings.Contains(errOut, "PulumiPolicy.yaml") {
			t.Fatalf("--policy-pack %s: exit %d\n%s\n%s", pack, code, out, errOut)
		}
	}
}
