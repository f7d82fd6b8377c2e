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
