package automation_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/postgis-platform/deployer/automation"
)

const (
	sgURN   = "urn:pulumi:prod::postgis-platform::aws:ec2/securityGroup:SecurityGroup::postgis"
	ruleURN = "urn:pulumi:prod::postgis-platform::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::etl"
	rdsURN  = "urn:pulumi:prod::postgis-platform::aws:rds/instance:Instance::postgis"
)

func TestGuard(t *testing.T) {
	replacement := []automation.Step{
		{Op: apitype.OpCreateReplacement, URN: sgURN, Type: "aws:ec2/securityGroup:SecurityGroup"},
		{Op: apitype.OpReplace, URN: sgURN, Type: "aws:ec2/securityGroup:SecurityGroup", Diffs: []string{"description"}},
		{Op: apitype.OpDeleteReplaced, URN: sgURN, Type: "aws:ec2/securityGroup:SecurityGroup"},
	}
	for _, tc := range []struct {
		name  string
		steps []automation.Step
		allow automation.Allow
		want  []string // op URN fix, one per blocked resource
	}{
		{"a replacement is one entry with its diffs", replacement, automation.Allow{},
			[]string{"replace " + sgURN + " --allow-replace '" + sgURN + "' description"}},
		{"allowed by URN", replacement, automation.Allow{Replace: []string{sgURN}}, nil},
		{"allowed by type", replacement, automation.Allow{Replace: []string{"aws:ec2/securityGroup:SecurityGroup"}}, nil},
		{"a delete", []automation.Step{{Op: apitype.OpDelete, URN: ruleURN, Type: "t"}}, automation.Allow{},
			[]string{"delete " + ruleURN + " --allow-delete '" + ruleURN + "' "}},
		{"a replace allowance is no delete allowance", []automation.Step{{Op: apitype.OpDelete, URN: ruleURN, Type: "t"}}, automation.Allow{Replace: []string{ruleURN}},
			[]string{"delete " + ruleURN + " --allow-delete '" + ruleURN + "' "}},
		{"updates and creates pass", []automation.Step{{Op: apitype.OpUpdate, URN: rdsURN}, {Op: apitype.OpCreate, URN: ruleURN}, {Op: apitype.OpSame, URN: sgURN}}, automation.Allow{}, nil},
		{"sorted by URN", append([]automation.Step{{Op: apitype.OpReplace, URN: rdsURN, Type: "r"}}, replacement...), automation.Allow{},
			[]string{"replace " + sgURN + " --allow-replace '" + sgURN + "' description", "replace " + rdsURN + " --allow-replace '" + rdsURN + "' "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, b := range automation.Guard(tc.steps, tc.allow) {
				got = append(got, string(b.Op)+" "+b.URN+" "+b.Fix+" "+strings.Join(b.Diffs, ","))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
