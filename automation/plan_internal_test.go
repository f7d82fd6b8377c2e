package automation

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// A replacement reaches the report once, as replace, not as the engine's
// three steps; the guard still sees every step.
func TestPlanListsAReplacementOnce(t *testing.T) {
	urn := "urn:pulumi:prod::postgis-platform::aws:ec2/securityGroup:SecurityGroup::postgis"
	typ := "aws:ec2/securityGroup:SecurityGroup"
	st := &apitype.StepEventStateMetadata{Type: typ, URN: urn, ID: "sg-1", Custom: true, Inputs: map[string]any{"description": "old"}}
	nw := &apitype.StepEventStateMetadata{Type: typ, URN: urn, Custom: true, Inputs: map[string]any{"description": "new"}}
	p := &planPass{drift: newRefreshCollector()}
	for _, op := range []apitype.OpType{apitype.OpCreateReplacement, apitype.OpReplace, apitype.OpDeleteReplaced} {
		p.step(apitype.StepEventMetadata{Op: op, URN: urn, Type: typ, Old: st, New: nw, Diffs: []string{"description"}})
	}
	if len(p.changes) != 1 || p.changes[0].Kind != "replace" || p.changes[0].ID != "sg-1" {
		t.Fatalf("changes %+v", p.changes)
	}
	if len(p.steps) != 3 {
		t.Fatalf("the guard sees %d steps, want 3", len(p.steps))
	}
}

// A pass that refreshed by running the program stands alone only when no
// provider is reconfigured beyond its password, nothing is deleted or
// replaced, and nothing drifted or is pending; otherwise up and preview plan
// again with the stored providers.
func TestProgramPassStandsAloneOnlyWhenSafe(t *testing.T) {
	const (
		prov   = "urn:pulumi:prod::postgis-platform::pulumi:providers:postgresql::postgis-admin"
		provT  = "pulumi:providers:postgresql"
		sgURN  = "urn:pulumi:prod::postgis-platform::aws:ec2/securityGroup:SecurityGroup::postgis"
		sgType = "aws:ec2/securityGroup:SecurityGroup"
	)
	sg := func(op apitype.OpType) apitype.StepEventMetadata {
		return apitype.StepEventMetadata{Op: op, URN: sgURN, Type: sgType,
			Old: &apitype.StepEventStateMetadata{Type: sgType, URN: sgURN, ID: "sg-1", Custom: true},
			New: &apitype.StepEventStateMetadata{Type: sgType, URN: sgURN, ID: "sg-1", Custom: true}}
	}
	provider := func(op apitype.OpType, diffs ...string) apitype.StepEventMetadata {
		return apitype.StepEventMetadata{Op: op, URN: prov, Type: provT, Diffs: diffs}
	}
	cases := []struct {
		name        string
		steps       []apitype.StepEventMetadata
		drift       func(*refreshCollector)
		alone       bool
		credentials int
	}{
		{name: "nothing to do", steps: []apitype.StepEventMetadata{sg(apitype.OpSame), provider(apitype.OpSame)}, alone: true},
		{name: "a rotated password alone", steps: []apitype.StepEventMetadata{provider(apitype.OpUpdate, "password")}, alone: true, credentials: 1},
		{name: "an update and a create", steps: []apitype.StepEventMetadata{sg(apitype.OpUpdate), sg(apitype.OpCreate)}, alone: true},
		{name: "a provider's host changes", steps: []apitype.StepEventMetadata{provider(apitype.OpUpdate, "host", "password")}},
		{name: "a provider replaced", steps: []apitype.StepEventMetadata{provider(apitype.OpReplace, "host")}},
		{name: "a replacement", steps: []apitype.StepEventMetadata{sg(apitype.OpCreateReplacement), sg(apitype.OpReplace), sg(apitype.OpDeleteReplaced)}},
		{name: "a delete", steps: []apitype.StepEventMetadata{sg(apitype.OpDelete)}},
		{name: "drift", steps: []apitype.StepEventMetadata{sg(apitype.OpSame)}, drift: func(c *refreshCollector) {
			c.changes = append(c.changes, ResourceChange{URN: sgURN, Kind: "missing"})
		}},
		{name: "pending", steps: []apitype.StepEventMetadata{sg(apitype.OpSame)}, drift: func(c *refreshCollector) {
			c.pendingChanges = append(c.pendingChanges, ResourceChange{URN: sgURN, Kind: "pending"})
		}},
		{name: "applied in the window", steps: []apitype.StepEventMetadata{sg(apitype.OpSame)}, drift: func(c *refreshCollector) {
			c.applied = append(c.applied, sgURN)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &planPass{drift: newRefreshCollector()}
			for _, m := range tc.steps {
				p.providerStep(m)
				p.step(m)
			}
			if tc.drift != nil {
				tc.drift(p.drift)
			}
			if got := p.standsAlone(); got != tc.alone {
				t.Errorf("standsAlone = %v, want %v (steps %+v, provider changes %v)", got, tc.alone, p.steps, p.providerChanges)
			}
			if len(p.credentialUpdates) != tc.credentials {
				t.Errorf("credential updates %v, want %d", p.credentialUpdates, tc.credentials)
			}
		})
	}
}
