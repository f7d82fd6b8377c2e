package automation

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// TestImpossibleMoves: a subnet group replaced under an instance that is
// only updated to use it is refused whatever is allowed; with the instance
// replaced too, or a subnet group changed in place, it is not.
func TestImpossibleMoves(t *testing.T) {
	const sn, db = "urn:pulumi:s::p::aws:rds/subnetGroup:SubnetGroup::db", "urn:pulumi:s::p::aws:rds/instance:Instance::db"
	group := func(op apitype.OpType) Step {
		return Step{Op: op, URN: sn, Type: "aws:rds/subnetGroup:SubnetGroup", Diffs: []string{"name"}}
	}
	inst := func(op apitype.OpType, diffs ...string) Step {
		return Step{Op: op, URN: db, Type: "aws:rds/instance:Instance", Diffs: diffs}
	}
	for _, tc := range []struct {
		name  string
		steps []Step
		want  bool
	}{
		{"group replaced, instance moved in place", []Step{group(apitype.OpCreateReplacement), inst(apitype.OpUpdate, "dbSubnetGroupName"), group(apitype.OpReplace)}, true},
		{"group replaced, instance replaced", []Step{group(apitype.OpReplace), inst(apitype.OpReplace, "dbSubnetGroupName", "dbName")}, false},
		{"group updated in place", []Step{group(apitype.OpUpdate), inst(apitype.OpSame)}, false},
		{"instance updated for something else", []Step{group(apitype.OpReplace), inst(apitype.OpUpdate, "instanceClass")}, false},
	} {
		err := impossibleMoves(tc.steps)
		if (err != nil) != tc.want {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err != nil && (!errors.Is(err, ErrImpossibleChange) || !strings.Contains(err.Error(), sn) || !strings.Contains(err.Error(), "--allow-replace '"+db+"'")) {
			t.Errorf("%s: the error does not name both resources and the fix: %v", tc.name, err)
		}
	}
}

// TestGuardErrorWraps: callers branch on ErrDestructiveChange with errors.Is.
func TestGuardErrorWraps(t *testing.T) {
	err := guardError([]Blocked{{Step: Step{Op: apitype.OpReplace, URN: "urn:pulumi:s::p::aws:rds/instance:Instance::db"}, Fix: "--allow-replace x"}})
	if !errors.Is(err, ErrDestructiveChange) || !strings.Contains(err.Error(), "--allow-replace x") {
		t.Fatalf("guard error: %v", err)
	}
}

// TestURNParts: names may hold "::"; strings that are not URNs pass through.
func TestURNParts(t *testing.T) {
	for _, tc := range []struct{ urn, typ, name string }{
		{"urn:pulumi:prod::postgis-platform::postgis:rds:PostgresInstance$aws:rds/instance:Instance::postgis", "aws:rds/instance:Instance", "postgis"},
		{"urn:pulumi:prod::p::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::a::b", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "a::b"},
		{"utility::user-mapping::admin@loopback", "", "admin@loopback"},
		{"plain", "", "plain"},
	} {
		if got := urnType(tc.urn); got != tc.typ {
			t.Errorf("urnType(%s) = %s, want %s", tc.urn, got, tc.typ)
		}
		if got := urnName(tc.urn); got != tc.name {
			t.Errorf("urnName(%s) = %s, want %s", tc.urn, got, tc.name)
		}
	}
}

// TestDeferredMajorUpgrade: a major upgrade without applyImmediately beside
// a parameter group replacement is refused; with applyImmediately, or a
// minor change, it is not.
func TestDeferredMajorUpgrade(t *testing.T) {
	const db = "urn:pulumi:s::p::aws:rds/instance:Instance::db"
	steps := []Step{{Op: apitype.OpReplace, URN: "urn:pulumi:s::p::aws:rds/parameterGroup:ParameterGroup::db", Type: "aws:rds/parameterGroup:ParameterGroup"}}
	change := func(from, to string) []ResourceChange {
		return []ResourceChange{{URN: db, Type: "aws:rds/instance:Instance", Kind: "update", Properties: []PropertyChange{{Path: "engineVersion", State: from, Live: to}}}}
	}
	for _, tc := range []struct {
		name      string
		changes   []ResourceChange
		steps     []Step
		immediate bool
		want      bool
	}{
		{"16 to 17, deferred", change("16", "17"), steps, false, true},
		{"16 to 17, applied now", change("16", "17"), steps, true, false},
		{"16.4 to 16.8", change("16.4", "16.8"), steps, false, false},
		{"no parameter group replaced", change("16", "17"), nil, false, false},
	} {
		err := deferredMajorUpgrade(tc.changes, tc.steps, map[string]map[string]any{db: {"applyImmediately": tc.immediate}})
		if (err != nil) != tc.want || (err != nil && (!errors.Is(err, ErrImpossibleChange) || !strings.Contains(err.Error(), "applyImmediately: true"))) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
