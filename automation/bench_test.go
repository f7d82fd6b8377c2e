package automation_test

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/postgis-platform/deployer/automation"
	"github.com/postgis-platform/deployer/policypack"
)

// A plan of 10,000 steps: the guard's classification cost.
func BenchmarkGuard(b *testing.B) {
	ops := []apitype.OpType{apitype.OpSame, apitype.OpUpdate, apitype.OpCreate, apitype.OpReplace, apitype.OpDelete, apitype.OpCreateReplacement}
	steps := make([]automation.Step, 10000)
	for i := range steps {
		steps[i] = automation.Step{Op: ops[i%len(ops)], URN: fmt.Sprintf("urn:pulumi:prod::p::t::r%d", i), Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"}
	}
	allow := automation.Allow{Replace: []string{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = automation.Guard(steps, allow)
	}
}

// Rendering a report of 1,000 changes and 1,000 findings.
func BenchmarkReportRendering(b *testing.B) {
	s := automation.StackReport{Stack: "prod", Result: "drift", ExitCode: 2}
	for i := 0; i < 1000; i++ {
		s.Changes = append(s.Changes, automation.ResourceChange{URN: fmt.Sprintf("urn:x::r%d", i), Type: "t", Name: fmt.Sprintf("r%d", i), Kind: "changed",
			Properties: []automation.PropertyChange{{Path: "cidrIpv4", Kind: "update", State: "10.0.0.0/8", Live: "0.0.0.0/0"}}})
		s.Violations = append(s.Violations, policypack.Violation{Rule: "sg-no-public-db-ingress", Level: policypack.Mandatory, URN: "u", Message: "m"})
	}
	r := automation.NewReport("drift", "bench", "3.230.0", []automation.StackReport{s})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = r.Markdown(0)
		var w discard
		_ = r.WriteJSON(&w)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
