package policypack_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/policypack"
)

func ruleProgram(cidr string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		tags := pulumi.StringMap{"Environment": pulumi.String("dev"), "ManagedBy": pulumi.String("deployer"), "CostCenter": pulumi.String("gis")}
		sg, err := ec2.NewSecurityGroup(ctx, "db", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("PostGIS"), Tags: tags})
		if err != nil {
			return err
		}
		_, err = vpc.NewSecurityGroupIngressRule(ctx, "etl", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			CidrIpv4: pulumi.String(cidr), Description: pulumi.String("ETL"), Tags: tags,
		})
		return err
	}
}

// The Pulumi engine (CLI built here) loads the pack through the analyzer on
// PATH, and a mandatory violation fails the preview.
func TestEngineLoadsThePackAndBlocksOnMandatory(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()

	st := e.Stack(t, "policy-ok", ruleProgram("10.20.30.0/24"))
	var out bytes.Buffer
	if _, err := st.Preview(ctx, optpreview.PolicyPacks(e.PolicyPack), optpreview.ProgressStreams(&out)); err != nil {
		t.Fatalf("clean program failed the policy preview: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), policypack.PackName) {
		t.Fatalf("the engine did not load the pack:\n%s", out.String())
	}

	bad := e.Stack(t, "policy-bad", ruleProgram("0.0.0.0/0"))
	out.Reset()
	_, err := bad.Preview(ctx, optpreview.PolicyPacks(e.PolicyPack), optpreview.ProgressStreams(&out))
	if err == nil {
		t.Fatalf("world-open database port passed the engine's policy check:\n%s", out.String())
	}
	text := out.String()
	for _, want := range []string{baseline.SGNoPublicDBIngress, "mandatory", "0.0.0.0/0"} {
		if !strings.Contains(text, want) {
			t.Errorf("preview output lacks %q:\n%s", want, text)
		}
	}
}
