package policypack_test

import (
	"fmt"
	"testing"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/policypack"
)

// Evaluating the baseline over 2,000 resources of the platform's types.
func BenchmarkEvaluate(b *testing.B) {
	var rs []policypack.Resource
	for i := 0; i < 400; i++ {
		for _, r := range []policypack.Resource{
			res(baseline.TypeIngressRule, ingress), res(baseline.TypeEgressRule, egress), res(baseline.TypeSecurityGroup, group),
			res(baseline.TypeDBInstance, instance), res(baseline.TypeDBParameterGroup, params),
		} {
			r.URN = fmt.Sprintf("%s-%d", r.URN, i)
			rs = append(rs, r)
		}
	}
	cfg := policypack.Config{Production: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = policypack.Evaluate(rs, cfg)
	}
}
