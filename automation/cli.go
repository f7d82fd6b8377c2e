package automation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// CLIRootEnv names the environment variable holding the Pulumi CLI install
// root (a folder with bin/pulumi).
const CLIRootEnv = "DEPLOYER_PULUMI_ROOT"

// MinCLIVersion is the oldest Pulumi CLI the deployer is tested with: it relies
// on preview-only refresh, update plans and the stack lock behaviour of v3.230.
var MinCLIVersion = semver.MustParse("3.230.0")

// ErrCLIVersion is returned (wrapped) when the Pulumi CLI is missing or too old.
var ErrCLIVersion = errors.New("unsupported Pulumi CLI")

// CLI is a located and version-checked Pulumi CLI.
type CLI struct {
	Command auto.PulumiCommand
	// Path is the pulumi binary that will run.
	Path string
	// Source says how it was found: "env", "tools" or "PATH".
	Source string
}

// Version is the CLI's version.
func (c CLI) Version() semver.Version { return c.Command.Version() }

// FindCLI locates the Pulumi CLI: $DEPLOYER_PULUMI_ROOT, else the project's
// .tools/pulumi next to the running binary (bin/deployer in a checkout), else
// `pulumi` on PATH. It refuses a CLI older than MinCLIVersion.
func FindCLI(ctx context.Context) (CLI, error) {
	root, source := "", "PATH"
	if r := os.Getenv(CLIRootEnv); r != "" {
		if _, err := os.Stat(filepath.Join(r, "bin", "pulumi")); err != nil {
			return CLI{}, fmt.Errorf("%w: %s=%s has no bin/pulumi; build it with `make pulumi` or unset the variable", ErrCLIVersion, CLIRootEnv, r)
		}
		root, source = r, "env"
	} else if r := toolsRootNearExecutable(); r != "" {
		root, source = r, "tools"
	}
	return OpenCLI(ctx, root, source)
}

// OpenCLI opens the CLI under root (or on PATH when root is empty) and checks
// its version.
func OpenCLI(_ context.Context, root, source string) (CLI, error) {
	path := "pulumi"
	if root != "" {
		path = filepath.Join(root, "bin", "pulumi")
	} else if p, err := exec.LookPath("pulumi"); err == nil {
		path = p
	} else {
		return CLI{}, fmt.Errorf("%w: no pulumi on PATH and %s is not set; run `make pulumi` in the deployer checkout", ErrCLIVersion, CLIRootEnv)
	}
	// The SDK's own check prints its minimum, not ours: check here instead.
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, SkipVersionCheck: true})
	if err != nil {
		return CLI{}, fmt.Errorf("%w: %s: %v", ErrCLIVersion, path, err)
	}
	v := cmd.Version()
	if v.Equals(semver.Version{}) {
		return CLI{}, fmt.Errorf("%w: %s reports no version (a source build needs -ldflags -X …/version.Version); rebuild with `make pulumi`", ErrCLIVersion, path)
	}
	if v.LT(MinCLIVersion) {
		return CLI{}, fmt.Errorf("%w: %s is v%s, the deployer needs v%s or later; rebuild with `make pulumi`", ErrCLIVersion, path, v, MinCLIVersion)
	}
	return CLI{Command: cmd, Path: path, Source: source}, nil
}

// toolsRootNearExecutable finds <checkout>/.tools/pulumi for a binary in
// <checkout>/bin.
func toolsRootNearExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	root := filepath.Join(filepath.Dir(filepath.Dir(exe)), ".tools", "pulumi")
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		return ""
	}
	return root
}
