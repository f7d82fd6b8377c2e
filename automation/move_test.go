package automation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// subnetGroupProgram is a DB subnet group named name and an instance in it.
func subnetGroupProgram(name string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		sn, err := rds.NewSubnetGroup(ctx, "db", &rds.SubnetGroupArgs{Name: pulumi.String(name), SubnetIds: pulumi.ToStringArray([]string{"subnet-a", "subnet-b"})})
		if err != nil {
			return err
		}
		_, err = rds.NewInstance(ctx, "db", &rds.InstanceArgs{Engine: pulumi.String("postgres"), EngineVersion: pulumi.String("16"),
			InstanceClass: pulumi.String("db.t4g.medium"), AllocatedStorage: pulumi.Int(20), DbSubnetGroupName: sn.Name,
			Identifier: pulumi.String("db-move"), SkipFinalSnapshot: pulumi.Bool(true)})
		return err
	}
}

func subnetGroups(t *testing.T, e *enginetest.Env) int {
	t.Helper()
	n := 0
	_ = e.AWSCloud().View(func(c *standin.Cloud) error { n = len(c.OfType(aws.TypeSubnetGroup)); return nil })
	return n
}

// Renaming a DB subnet group replaces it, and the instance in it would move
// to the new group in place, which RDS refuses in the same VPC: the raw
// engine stops half-way (the new group made, the instance refused); deployer
// refuses the plan up front, even with the replacement allowed, naming both
// resources and the fix.
func TestSubnetGroupReplacementUnderAnInstanceIsRefused(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	st := e.Stack(t, "move", subnetGroupProgram("db-one"))
	e.SmallStack(t, st)
	allow := automation.WithAllow(automation.Allow{Replace: []string{aws.TypeSubnetGroup}})
	r := automation.Preview(ctx, e.Settings.WithProgram(subnetGroupProgram("db-two")), "move", allow)
	joined := strings.Join(r.Notes, "\n")
	if r.ExitCode != automation.ExitBlocked || !strings.Contains(joined, "InvalidVPCNetworkStateFault") ||
		!strings.Contains(joined, "SubnetGroup::db") || !strings.Contains(joined, "--allow-replace") {
		t.Fatalf("preview of the move: exit %d notes %q error %s", r.ExitCode, r.Notes, r.Error)
	}
	if n := subnetGroups(t, e); n != 1 {
		t.Fatalf("the preview changed the cloud: %d subnet groups", n)
	}
	u := automation.Up(ctx, e.Settings.WithProgram(subnetGroupProgram("db-two")), "move", allow)
	if u.ExitCode != automation.ExitBlocked || u.Step != "guard" || !strings.Contains(u.Error, "InvalidVPCNetworkStateFault") {
		t.Fatalf("up of the move: exit %d step %s error %s", u.ExitCode, u.Step, u.Error)
	}
	if n := subnetGroups(t, e); n != 1 {
		t.Fatalf("the refused up changed the cloud: %d subnet groups", n)
	}
	// What the guard saves users from: the engine alone stops half-way.
	st.Workspace().SetProgram(subnetGroupProgram("db-two"))
	if _, err := st.Up(ctx); err == nil || !strings.Contains(err.Error(), "InvalidVPCNetworkStateFault") {
		t.Fatalf("the raw engine's move: %v", err)
	}
	if n := subnetGroups(t, e); n != 2 {
		t.Fatalf("the raw engine's failed move left %d subnet groups, want the new one beside the old", n)
	}
}
