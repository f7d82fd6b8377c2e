package aws

import (
	"context"
	"strings"
	"testing"
)

// TestDescriptionRefusals: EC2 refuses group and rule descriptions outside
// its character set, at create and at a rule's update (which then changes
// nothing). Upstream: the EC2 API's InvalidParameterValue, through
// vpc_security_group.go resourceSecurityGroupCreate and
// vpc_security_group_ingress_rule.go Create/Update.
func TestDescriptionRefusals(t *testing.T) {
	p, err := seededProvider(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := p.Types[TypeSecurityGroup].Impl.Create(ctx, "", map[string]any{"description": "PostGIS — tiles", "vpcId": "vpc-1"}); err == nil ||
		!strings.Contains(err.Error(), "GroupDescription is invalid") {
		t.Fatalf("group description with an em dash: %v", err)
	}
	gid, _, err := p.Types[TypeSecurityGroup].Impl.Create(ctx, "", map[string]any{"description": "PostGIS (tiles)", "vpcId": "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	rule := map[string]any{"securityGroupId": gid, "ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "10.0.0.0/24"}
	for _, bad := range []string{"café to PostGIS", "ETL <prod>", strings.Repeat("x", 256), "tab\there"} {
		if _, _, err := p.Types[TypeIngressRule].Impl.Create(ctx, "", with(rule, "description", bad)); err == nil || !strings.Contains(err.Error(), "Invalid rule description") {
			t.Errorf("rule description %q: %v", bad, err)
		}
	}
	id, _, err := p.Types[TypeIngressRule].Impl.Create(ctx, "", with(rule, "description", "ETL subnet: nightly [v2] & more!"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Types[TypeIngressRule].Impl.Update(ctx, id, nil, with(rule, "description", "naïve")); err == nil || !strings.Contains(err.Error(), "Invalid rule description") {
		t.Fatalf("rule update to a bad description: %v", err)
	}
	out, _, err := p.Types[TypeIngressRule].Impl.Read(ctx, id, nil, nil)
	if err != nil || out["description"] != "ETL subnet: nightly [v2] & more!" {
		t.Fatalf("the refused update changed the rule: %v %v", out["description"], err)
	}
}
