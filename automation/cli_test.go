package automation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
)

// fakeCLI writes a root/bin/pulumi script whose `version` prints out.
func fakeCLI(t *testing.T, out string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho '" + out + "'\n"
	if err := os.WriteFile(filepath.Join(root, "bin", "pulumi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestOpenCLIVersionCheck(t *testing.T) {
	tests := []struct {
		name, prints, wantErr string
	}{
		{"current", "v3.230.0", ""},
		{"newer", "v3.250.1", ""},
		{"too old", "v3.100.0", "needs v3.230.0 or later"},
		{"unstamped source build", "", "reports no version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cli, err := automation.OpenCLI(context.Background(), fakeCLI(t, tc.prints), "test")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if "v"+cli.Version().String() != tc.prints {
					t.Fatalf("version %s, want %s", cli.Version(), tc.prints)
				}
				return
			}
			if !errors.Is(err, automation.ErrCLIVersion) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "make pulumi") {
				t.Fatalf("want ErrCLIVersion with %q and the fix, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestFindCLIFromEnv(t *testing.T) {
	root := fakeCLI(t, "v3.230.0")
	t.Setenv(automation.CLIRootEnv, root)
	cli, err := automation.FindCLI(context.Background())
	if err != nil || cli.Source != "env" || cli.Path != filepath.Join(root, "bin", "pulumi") {
		t.Fatalf("FindCLI = %+v, %v", cli, err)
	}
	t.Setenv(automation.CLIRootEnv, filepath.Join(root, "missing"))
	if _, err := automation.FindCLI(context.Background()); !errors.Is(err, automation.ErrCLIVersion) {
		t.Fatalf("want ErrCLIVersion for a root without bin/pulumi, got %v", err)
	}
}
