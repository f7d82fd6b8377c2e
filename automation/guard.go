package automation

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/postgis-platform/deployer/baseline"
)

// ErrDestructiveChange is returned (wrapped) when a plan deletes or replaces
// a resource that was not explicitly allowed.
var ErrDestructiveChange = errors.New("destructive change not allowed")

// Allow lists what a run may destroy: URNs or type tokens.
type Allow struct {
	Replace []string
	Delete  []string
}

func matches(list []string, urn, typ string) bool {
	for _, a := range list {
		if a == urn || a == typ {
			return true
		}
	}
	return false
}

// replaceOps are the step operations of a replacement.
var replaceOps = map[apitype.OpType]bool{
	apitype.OpReplace: true, apitype.OpCreateReplacement: true, apitype.OpDeleteReplaced: true,
	apitype.OpDiscardReplaced: true, apitype.OpImportReplacement: true,
}

// Step is one planned step.
type Step struct {
	Op        apitype.OpType
	URN, Type string
	Protected bool
	Diffs     []string
}

// Blocked is a step the guard refused, with the flag that would allow it.
type Blocked struct {
	Step
	Fix string
}

// Guard returns the steps that delete or replace something not allowed, one
// per resource and action: a replacement's three engine steps are one
// replace.
func Guard(steps []Step, allow Allow) []Blocked {
	var out []Blocked
	seen := map[string]int{}
	for _, s := range steps {
		var fix string
		switch {
		case replaceOps[s.Op] && !matches(allow.Replace, s.URN, s.Type):
			fix = "--allow-replace '" + s.URN + "'"
		case s.Op == apitype.OpDelete && !matches(allow.Delete, s.URN, s.Type):
			fix = "--allow-delete '" + s.URN + "'"
		default:
			continue
		}
		if replaceOps[s.Op] {
			s.Op = apitype.OpReplace
		}
		if i, ok := seen[fix]; ok {
			if len(s.Diffs) > len(out[i].Diffs) {
				out[i].Diffs = s.Diffs // the replace step carries the diffs
			}
			continue
		}
		seen[fix] = len(out)
		out = append(out, Blocked{Step: s, Fix: fix})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URN < out[j].URN })
	return out
}

// guardError describes blocked steps.
func guardError(blocked []Blocked) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d step(s) would delete or replace resources:", len(blocked))
	for _, s := range blocked {
		fmt.Fprintf(&b, "\n  %s %s (changes: %s); allow it with %s", s.Op, s.URN, strings.Join(s.Diffs, ", "), s.Fix)
	}
	return fmt.Errorf("%w: %s", ErrDestructiveChange, b.String())
}

// ErrImpossibleChange is returned (wrapped) when a plan holds a change the
// cloud refuses half-way, whatever is allowed.
var ErrImpossibleChange = errors.New("change the cloud refuses")

// impossibleMoves finds a DB subnet group replaced under an instance that is
// only updated to use the new one: RDS refuses to move an instance to
// another subnet group of the same VPC (InvalidVPCNetworkStateFault), so the
// update would stop after creating the new group.
func impossibleMoves(steps []Step) error {
	var groups, moved []string
	for _, s := range steps {
		switch {
		case s.Type == baseline.TypeDBSubnetGroupType && replaceOps[s.Op] && !slices.Contains(groups, s.URN):
			groups = append(groups, s.URN)
		case s.Type == baseline.TypeDBInstance && s.Op == apitype.OpUpdate && slices.Contains(s.Diffs, "dbSubnetGroupName"):
			moved = append(moved, s.URN)
		}
	}
	if len(groups) == 0 || len(moved) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the plan replaces DB subnet group %s and moves DB instance %s to the new group in place; "+
		"RDS refuses to move an instance to another subnet group of the same VPC (InvalidVPCNetworkStateFault), so the update would stop "+
		"after creating the new group. Keep the subnet group's name and change its subnetIds in place instead, or replace the instance with it "+
		"(--allow-replace '%s', after a snapshot)", ErrImpossibleChange, strings.Join(groups, ", "), strings.Join(moved, ", "), moved[0])
}

// deferredMajorUpgrade finds a major version upgrade of an instance without
// applyImmediately in a plan that also replaces a parameter group: RDS holds
// the upgrade, and the new family's group, for the maintenance window, while
// the update deletes the old group the instance still uses, which RDS
// refuses (InvalidDBParameterGroupState) after the new group is made.
func deferredMajorUpgrade(changes []ResourceChange, steps []Step, inputs map[string]map[string]any) error {
	replacesGroup := slices.ContainsFunc(steps, func(s Step) bool { return s.Type == baseline.TypeDBParameterGroup && replaceOps[s.Op] })
	if !replacesGroup {
		return nil
	}
	for _, c := range changes {
		if c.Type != baseline.TypeDBInstance || c.Kind != string(apitype.OpUpdate) || inputs[c.URN]["applyImmediately"] == true {
			continue
		}
		for _, p := range c.Properties {
			was, now := fmt.Sprint(p.State), fmt.Sprint(p.Live)
			if p.Path == "engineVersion" && p.State != nil && p.Live != nil && majorPart(was) != majorPart(now) {
				return fmt.Errorf("%w: the plan upgrades DB instance %s from PostgreSQL %s to %s without applyImmediately, so RDS holds the upgrade and the "+
					"new parameter group for the maintenance window, while this update deletes the old parameter group the instance still uses "+
					"(RDS refuses: InvalidDBParameterGroupState). Run the upgrade with applyImmediately (config `applyImmediately: true`; the instance "+
					"restarts for the upgrade), then set it back", ErrImpossibleChange, c.URN, was, now)
			}
		}
	}
	return nil
}

func majorPart(v string) string {
	major, _, _ := strings.Cut(v, ".")
	return major
}
