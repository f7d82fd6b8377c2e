package automation_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/components/pgprovider"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
	"github.com/postgis-platform/deployer/internal/testkit/enginetest"
	"github.com/postgis-platform/deployer/stacks"
)

// oneRuleProgram is a group with one ingress rule; report says whether the
// program reports the group's live rules for drift audits.
func oneRuleProgram(report bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		sg, err := ec2.NewSecurityGroup(ctx, "g", &ec2.SecurityGroupArgs{VpcId: pulumi.String("vpc-1"), Description: pulumi.String("test")})
		if err != nil {
			return err
		}
		if report {
			securitygroup.ReportLiveRules(ctx, sg.ID().ToStringOutput())
		}
		_, err = vpc.NewSecurityGroupIngressRule(ctx, "r", &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			CidrIpv4: pulumi.String("10.1.0.0/24"), Description: pulumi.String("test"),
		})
		return err
	}
}

// A program that reports its groups' live rules gets the rules made by hand
// found; one that does not gets a note naming the group it could not check.
func TestDriftUnmanagedRulesNeedTheProgramsReport(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	e.SmallStack(t, e.Stack(t, "reports", oneRuleProgram(true)))
	e.SmallStack(t, e.Stack(t, "silent", oneRuleProgram(false)))

	if r := automation.Drift(ctx, e.Settings.WithProgram(oneRuleProgram(true)), "reports"); r.ExitCode != automation.ExitOK || len(r.Notes) != 0 {
		t.Fatalf("drift right after up: %+v", r)
	}
	groups := map[string]string{} // group ID -> the rule made by hand on it
	err := e.AWSCloud().Update(func(c *standin.Cloud) error {
		for _, g := range enginetest.ManagedGroups(c) {
			id := "sgr-byhand-" + g.ID
			c.Objects[id] = &standin.Object{Type: aws.TypeIngressRule, ID: id, Props: map[string]any{
				"securityGroupId": g.ID, "ipProtocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrIpv4": "192.168.7.0/24",
			}}
			groups[g.ID] = id
		}
		return nil
	})
	if err != nil || len(groups) != 2 {
		t.Fatalf("add rules by hand: %v (%d groups)", err, len(groups))
	}

	r := automation.Drift(ctx, e.Settings.WithProgram(oneRuleProgram(true)), "reports")
	if r.ExitCode != automation.ExitChanges || len(r.Unmanaged) != 1 || r.Unmanaged[0].RuleID != groups[r.Unmanaged[0].GroupID] ||
		!strings.HasSuffix(r.Unmanaged[0].GroupURN, "::g") || len(r.Changes) != 0 {
		t.Fatalf("drift of the reporting program after a rule was added by hand: %+v", r)
	}
	var silentGroup string
	for g := range groups {
		if g != r.Unmanaged[0].GroupID {
			silentGroup = g
		}
	}
	r = automation.Drift(ctx, e.Settings.WithProgram(oneRuleProgram(false)), "silent")
	if r.ExitCode != automation.ExitOK || len(r.Unmanaged) != 0 || len(r.Notes) != 1 ||
		!strings.Contains(r.Notes[0], "were not reported") || !strings.Contains(r.Notes[0], silentGroup) {
		t.Fatalf("drift of the silent program: want clean with a note naming the group, got %+v", r)
	}
}

// auditProgram is oneRuleProgram with a database audit whose server does
// not answer (port is closed).
func auditProgram(port int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if err := oneRuleProgram(true)(ctx); err != nil {
			return err
		}
		admin := pgprovider.Connection{Host: pulumi.String("127.0.0.1"), Port: pulumi.Int(port), Username: "admin",
			Password: pulumi.ToSecret(pulumi.String("never-shown-3f9a")).(pulumi.StringOutput), SSLRootCert: filepath.Join(ctx.RootDirectory(), "missing-ca.pem")}
		stacks.ReportDatabaseAudit(ctx, admin, stacks.AuditScope{Roles: []string{"etl"}, Databases: []string{"gis"}})
		return nil
	}
}

// A database audit that cannot run fails drift and preview (exit 1, saying
// so) instead of passing what it did not read; the password is in neither.
func TestDatabaseAuditThatCannotRunFailsClosed(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	e.SmallStack(t, e.Stack(t, "audit", auditProgram(port)))
	s := e.Settings.WithProgram(auditProgram(port))
	for name, r := range map[string]automation.StackReport{
		"drift":   automation.Drift(ctx, s, "audit"),
		"preview": automation.Preview(ctx, s, "audit"),
	} {
		if r.ExitCode != automation.ExitError || !strings.Contains(r.Error, "database audit failed") || strings.Contains(fmt.Sprintf("%+v", r), "never-shown-3f9a") {
			t.Errorf("%s with an audit that cannot connect: want exit 1 naming the failed audit, got %+v", name, r)
		}
	}
}

// Live rules that cannot be listed (AWS answers the look-up with an error)
// fail drift, never a clean result with a note.
func TestLiveRulesThatCannotBeListedFailClosed(t *testing.T) {
	e := enginetest.New(t)
	ctx := context.Background()
	e.SmallStack(t, e.Stack(t, "rules", oneRuleProgram(true)))
	s := e.Settings.WithProgram(oneRuleProgram(true))
	s.Env = maps.Clone(s.Env)
	s.Env[standin.FaultsEnv] = "invoke:" + aws.FnSecurityGroupRules + ":1"
	r := automation.Drift(ctx, s, "rules")
	if r.ExitCode != automation.ExitError || !strings.Contains(r.Error, "could not read a security group's live rules") || !strings.Contains(r.Error, "injected fault") {
		t.Fatalf("drift whose live-rules look-up fails: want exit 1 naming it, got %+v", r)
	}
	if r := automation.Drift(ctx, s, "rules"); r.ExitCode != automation.ExitOK {
		t.Fatalf("drift once the look-up answers again: %+v", r)
	}
}
