package automation_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/internal/enginetest"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/stacks"
)

// oneRuleProgram is a group with one ingress rule that does not report its
// live rules itself.
func oneRuleProgram(ctx *pulumi.Context) error {
	sg, err := ec2.NewSecurityGroup(ctx, "g", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("test")})
	if err != nil {
		return err
	}
	_, err = vpc.NewSecurityGroupIngressRule(ctx, "r", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
		CidrIpv4: pulumi.String("10.1.0.0/24"), Description: pulumi.String("test"),
	})
	return err
}

// In a file backend the audit reads the groups from the state, so it finds
// rules made by hand on any program's groups, not only on those whose
// program reports its live rules.
func TestDriftFindsUnmanagedRulesOfAnyProgram(t *testing.T) {
	for _, tc := range []struct{ name, gzip string }{{"plain state file", ""}, {"gzipped state file", "true"}} {
		t.Run(tc.name, func(t *testing.T) {
			e := enginetest.New(t)
			e.Settings.Env["PULUMI_DIY_BACKEND_GZIP"] = tc.gzip
			ctx := context.Background()
			e.SmallStack(t, e.Stack(t, "small", oneRuleProgram))
			state := filepath.Join(e.StateDir, ".pulumi", "stacks", stacks.Project, "small.json")
			if tc.gzip != "" {
				state += ".gz"
			}
			if _, err := os.Stat(state); err != nil {
				t.Fatalf("the state file is not where the test expects it: %v", err)
			}

			clean := automation.Drift(ctx, e.Settings, "small", oneRuleProgram)
			if clean.ExitCode != automation.ExitOK || len(clean.Unmanaged) != 0 || len(clean.Notes) != 0 {
				t.Fatalf("drift right after up: %+v", clean)
			}

			var groupID string
			err := e.AWSCloud().Update(func(c *standin.Cloud) error {
				groupID = c.OfType(aws.TypeSecurityGroup)[0].ID
				c.Objects["sgr-byhand"] = &standin.Object{Type: aws.TypeIngressRule, ID: "sgr-byhand", Props: map[string]any{
					"securityGroupId": groupID, "ipProtocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrIpv4": "192.168.7.0/24",
				}}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			r := automation.Drift(ctx, e.Settings, "small", oneRuleProgram)
			if r.ExitCode != automation.ExitChanges || len(r.Unmanaged) != 1 || r.Unmanaged[0].RuleID != "sgr-byhand" ||
				r.Unmanaged[0].GroupID != groupID || !strings.HasSuffix(r.Unmanaged[0].GroupURN, "::g") || len(r.Changes) != 0 {
				t.Fatalf("drift after a rule was added by hand: %+v", r)
			}
		})
	}
}
