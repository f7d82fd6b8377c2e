package automation_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/postgis-platform/deployer/automation"
)

func TestOwnProgramFollowsTheRuntime(t *testing.T) {
	for _, c := range []struct {
		name, project string
		own           bool
		runtime       string
	}{
		{"the platform (go)", "name: p\nruntime: go\n", false, "go"},
		{"yaml", "name: p\nruntime: yaml\n", true, "yaml"},
		{"runtime with options", "name: p\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n", true, "nodejs"},
		{"python", "name: p\nruntime: python\n", true, "python"},
		{"no runtime", "name: p\n", false, ""},
		{"not YAML", "name: [p\n", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(c.project), 0o644); err != nil {
				t.Fatal(err)
			}
			own, runtime := automation.Settings{ProjectDir: dir}.OwnProgram()
			if own != c.own || runtime != c.runtime {
				t.Errorf("OwnProgram() = %v, %q; want %v, %q", own, runtime, c.own, c.runtime)
			}
		})
	}
	if own, _ := (automation.Settings{ProjectDir: t.TempDir()}).OwnProgram(); own {
		t.Error("a folder without Pulumi.yaml runs its own program")
	}
}
