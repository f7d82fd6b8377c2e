// Package layering holds the tests of the packages' import rules: which
// package may build on which (docs/architecture.md, "The packages").
package layering

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

const module = "github.com/postgis-platform/deployer/"

// deps lists the packages pkg builds on (tests excluded), within the module
// and in all; direct: only those it imports itself.
func deps(t *testing.T, pkg string, direct bool) (own, all []string) {
	t.Helper()
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}", "./" + pkg}
	if direct {
		args = []string{"list", "-f", `{{join .Imports "\n"}}`, "./" + pkg}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = testenv.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v", pkg, err)
	}
	for _, p := range strings.Fields(string(out)) {
		all = append(all, p)
		if strings.HasPrefix(p, module) && p != module+pkg {
			own = append(own, strings.TrimPrefix(p, module))
		}
	}
	return own, all
}

func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg       string
		direct    bool     // the package's own imports only
		forbidden []string // prefixes within the module
		why       string
	}{
		{"baseline", false, []string{""}, "the baseline's names depend on nothing of the module"},
		{"components/securitygroup", false, []string{"policypack", "automation", "stacks", "sqlfuncs"}, "a stack that imports a component does not build the policy engine"},
		{"components/rds", false, []string{"policypack", "automation", "stacks", "sqlfuncs"}, "a stack that imports a component does not build the policy engine"},
		{"components/tags", false, []string{"policypack", "automation", "stacks"}, "a stack that imports a component does not build the policy engine"},
		{"automation", false, []string{"internal/", "cmd/"}, "automation is a library: no test helpers, no stand-ins, no command"},
		{"cmd/deployer", true, []string{"stacks", "internal/"}, "the program is automation's to choose"},
		{"stacks", false, []string{"automation", "cmd/", "internal/"}, "the program knows nothing of the sequences that run it"},
		{"internal/standin/aws", false, []string{"internal/testkit"}, "what the local stack runs holds nothing test-only"},
		{"internal/standin/postgresql", false, []string{"internal/testkit"}, "what the local stack runs holds nothing test-only"},
	}
	for _, r := range rules {
		own, _ := deps(t, r.pkg, r.direct)
		for _, d := range own {
			for _, f := range r.forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s imports %s: %s", r.pkg, d, r.why)
				}
			}
		}
	}
}

// The baseline builds on the standard library alone.
func TestBaselineHasNoDependencies(t *testing.T) {
	_, all := deps(t, "baseline", false)
	for _, p := range all {
		if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") && p != module+"baseline" {
			t.Errorf("baseline builds on %s", p)
		}
	}
}
