package provider

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/postgis-platform/deployer/internal/testkit/testenv"
)

// The TypeScript example compiles with tsc against the generated SDK
// (sdk/nodejs) and @pulumi/pulumi from the npm registry, at the versions its
// package-lock.json pins.
func TestTypeScriptExampleCompiles(t *testing.T) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		if testenv.Required() {
			t.Fatal("npm is not installed: install Node.js 20 and npm (make test needs them for the TypeScript example)")
		}
		t.Skip("npm is not installed; run `make test` on a machine with Node.js 20")
	}
	dir := filepath.Join("examples", "typescript")
	for _, args := range [][]string{
		{npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"},
		{"node_modules/.bin/tsc", "-p", "."},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v in %s: %v\n%s", args, dir, err, out)
		}
	}
}
