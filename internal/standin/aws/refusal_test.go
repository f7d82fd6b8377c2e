package aws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
)

// ruleProgram is a hardened group with one ingress rule under key, aliased
// to previous keys.
func ruleProgram(key string, previous ...string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := securitygroup.New(ctx, "db", securitygroup.Args{
			VpcID: pulumi.String("vpc-1"), Description: "PostGIS (test)",
			Ingress: []securitygroup.Rule{{Key: key, PreviousKeys: previous, Description: "ETL subnet", FromPort: 5432, CIDRIPv4: "10.20.30.0/24"}},
			Egress:  []securitygroup.Rule{{Key: "patching", Description: "HTTPS", FromPort: 443, CIDRIPv4: "10.0.0.0/8"}},
			Tags:    tags.Set{Environment: "dev", CostCenter: "gis"},
		})
		return err
	}
}

func ingressIDs(t *testing.T, e *enginetest.Env) []string {
	t.Helper()
	var ids []string
	for id, o := range objects(t, e) {
		if o.Type == aws.TypeIngressRule {
			ids = append(ids, id)
		}
	}
	return ids
}

// Renaming a rule's key is a create of the new rule before the delete of the
// old one: AWS refuses the second identical rule (InvalidPermission.Duplicate,
// as the stand-in now does), the failed update leaves the old rule in place
// and the next run with an alias finishes the rename without a new rule.
func TestRuleKeyRenameUnderTheDuplicateRefusal(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	st := e.Stack(t, "rename", ruleProgram("etl"))
	if _, err := st.Up(ctx); err != nil {
		t.Fatal(err)
	}
	before := ingressIDs(t, e)
	st.Workspace().SetProgram(ruleProgram("etl-subnet"))
	_, err := st.Up(ctx)
	if err == nil || !strings.Contains(err.Error(), "InvalidPermission.Duplicate") || !strings.Contains(err.Error(), "db-in-etl-subnet") {
		t.Fatalf("a rename without an alias: %v", err)
	}
	if got := ingressIDs(t, e); len(got) != 1 || got[0] != before[0] {
		t.Fatalf("the refused rename changed the rules: %v -> %v", before, got)
	}
	st.Workspace().SetProgram(ruleProgram("etl-subnet", "etl"))
	res, err := st.Up(ctx)
	if err != nil {
		t.Fatalf("a rename with PreviousKeys: %v", err)
	}
	if got := ingressIDs(t, e); len(got) != 1 || got[0] != before[0] {
		t.Fatalf("the aliased rename made a new rule: %v -> %v", before, got)
	}
	if rc := res.Summary.ResourceChanges; rc != nil && ((*rc)["create"] > 0 || (*rc)["delete"] > 0) {
		t.Fatalf("the aliased rename created or deleted: %v", *rc)
	}
}

// A static parameter with ApplyMethod immediate is refused, as RDS does.
func TestStaticParameterImmediateIsRefused(t *testing.T) {
	e := enginetest.New(t)
	st := e.Stack(t, "static", func(ctx *pulumi.Context) error {
		_, err := rds.NewParameterGroup(ctx, "db", &rds.ParameterGroupArgs{Family: pulumi.String("postgres16"),
			Parameters: rds.ParameterGroupParameterArray{rds.ParameterGroupParameterArgs{Name: pulumi.String("shared_preload_libraries"),
				Value: pulumi.String("pgaudit"), ApplyMethod: pulumi.StringPtr("immediate")}}})
		return err
	})
	_, err := st.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterCombination") || !strings.Contains(err.Error(), "shared_preload_libraries") {
		t.Fatalf("immediate on a static parameter: %v", err)
	}
}
