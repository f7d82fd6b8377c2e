package automation

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// A refresh that runs the program reports components as updated on newer
// CLIs (v3.274: same inputs and outputs, no diffs): a component is never
// drift; a custom resource's update still is.
func TestComponentsAreNeverDrift(t *testing.T) {
	c := newRefreshCollector()
	component := &apitype.StepEventStateMetadata{URN: "urn:pulumi:s::p::postgis:rds:PostgresInstance::postgis", Type: "postgis:rds:PostgresInstance", Custom: false}
	c.step(apitype.StepEventMetadata{Op: apitype.OpUpdate, URN: component.URN, Type: component.Type, Old: component, New: component}, true)
	if c.hasDrift() {
		t.Fatalf("a component's refresh step is drift: %+v", c.changes)
	}
	role := &apitype.StepEventStateMetadata{URN: "urn:pulumi:s::p::postgresql:index/role:Role::etl", Type: "postgresql:index/role:Role", Custom: true, ID: "etl"}
	c.step(apitype.StepEventMetadata{Op: apitype.OpUpdate, URN: role.URN, Type: role.Type, Old: role, New: role, Diffs: []string{"roles"}}, true)
	if !c.hasDrift() || c.changes[0].Name != "etl" {
		t.Fatalf("a custom resource's update is not drift: %+v", c.changes)
	}
}
