package automation_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// testSettings needs only the CLI: the smoke programs use no provider.
func testSettings(t *testing.T) automation.Settings { return enginetest.NewProject(t) }

type smokeComponent struct {
	pulumi.ResourceState
}

// smokeProgram registers two components and no provider resources, so it runs
// without any provider plugin.
func smokeProgram(ctx *pulumi.Context) error {
	parent := &smokeComponent{}
	if err := ctx.RegisterComponentResource("deployer:test:Smoke", "parent", parent); err != nil {
		return err
	}
	child := &smokeComponent{}
	if err := ctx.RegisterComponentResource("deployer:test:Smoke", "child", child, pulumi.Parent(parent)); err != nil {
		return err
	}
	ctx.Export("greeting", pulumi.String("hello"))
	return nil
}

func TestCLIFromSourceRunsInlineProgram(t *testing.T) {
	s := testSettings(t)
	ctx := context.Background()
	if s.CLI.Version().LT(automation.MinCLIVersion) {
		t.Fatalf("CLI version %s below minimum", s.CLI.Version())
	}
	st, err := s.UpsertStack(ctx, "smoke", smokeProgram)
	if err != nil {
		t.Fatal(err)
	}

	prev, err := st.Preview(ctx, optpreview.Diff())
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	// The stack itself plus two components.
	if got := prev.ChangeSummary[apitype.OpCreate]; got != 3 {
		t.Fatalf("preview creates %d resources, want 3: %v", got, prev.ChangeSummary)
	}

	up, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if up.Summary.Result != "succeeded" || up.Outputs["greeting"].Value != "hello" {
		t.Fatalf("up: result %q outputs %v", up.Summary.Result, up.Outputs)
	}
	if got := (*up.Summary.ResourceChanges)["create"]; got != 3 {
		t.Fatalf("up created %d resources, want 3", got)
	}

	// A second preview of the unchanged program shows nothing to do.
	again, err := st.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.ChangeSummary[apitype.OpSame] != 3 || len(again.ChangeSummary) != 1 {
		t.Fatalf("unchanged program previews changes: %v", again.ChangeSummary)
	}

	des, err := st.Destroy(ctx, optdestroy.Remove())
	if err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if got := (*des.Summary.ResourceChanges)["delete"]; got != 3 {
		t.Fatalf("destroy deleted %d resources, want 3", got)
	}
	ws := st.Workspace()
	stacks, err := ws.ListStacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != 0 {
		t.Fatalf("stack not removed after destroy: %v", stacks)
	}
}

// The Automation API's StackSettings reads Pulumi.<stack>.yaml in the work dir
// only, while the CLI honours stackConfigDir: config must be read through the CLI.
func TestStackConfigLivesInStacksDir(t *testing.T) {
	s := testSettings(t)
	ctx := context.Background()
	st, err := s.UpsertStack(ctx, "cfg", smokeProgram)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetConfig(ctx, "postgis-platform:environment", auto.ConfigValue{Value: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetConfig(ctx, "postgis-platform:etlPassword", auto.ConfigValue{Value: "hunter2-XYZ", Secret: true}); err != nil {
		t.Fatal(err)
	}

	inStacks := filepath.Join(s.ProjectDir, "stacks", "Pulumi.cfg.yaml")
	raw, err := os.ReadFile(inStacks)
	if err != nil {
		t.Fatalf("config did not land in stacks/: %v", err)
	}
	if !strings.Contains(string(raw), "environment: dev") || strings.Contains(string(raw), "hunter2-XYZ") {
		t.Fatalf("stacks/Pulumi.cfg.yaml: want the plain value and the secret encrypted:\n%s", raw)
	}
	if _, err := os.Stat(filepath.Join(s.ProjectDir, "Pulumi.cfg.yaml")); !os.IsNotExist(err) {
		t.Fatalf("config also written to the work dir root: %v", err)
	}

	all, err := st.GetAllConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all["postgis-platform:environment"].Value != "dev" {
		t.Fatalf("GetAllConfig: %v", all)
	}
	if sec := all["postgis-platform:etlPassword"]; !sec.Secret || sec.Value != "hunter2-XYZ" {
		t.Fatalf("secret read back wrong: secret=%v", sec.Secret)
	}

	// The trap this layout avoids: the workspace's own reader sees nothing.
	if _, err := st.Workspace().StackSettings(ctx, "cfg"); err == nil {
		t.Fatal("LocalWorkspace.StackSettings found the stack settings; the CLI-only read path is no longer needed")
	}
}
