package automation

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/postgis-platform/deployer/policypack"
)

const dbURN = "urn:pulumi:s::p::postgis:rds:PostgresInstance$aws:rds/instance:Instance::postgis"

func meta(in, out map[string]any) *apitype.StepEventStateMetadata {
	return &apitype.StepEventStateMetadata{Inputs: in, Outputs: out}
}

// TestSplitPending: a deferred setting whose running value the state already
// recorded is pending; a value that moved is drift.
func TestSplitPending(t *testing.T) {
	asked := map[string]any{"instanceClass": "db.r6g.large", "backupRetentionPeriod": 7.0}
	running := map[string]any{"instanceClass": "db.t4g.medium", "backupRetentionPeriod": 7.0}
	for _, tc := range []struct {
		name               string
		typ                string
		state, live        *apitype.StepEventStateMetadata
		paths              []string
		wantPend, wantDrft []string
	}{
		{"asked, not running yet", "aws:rds/instance:Instance", meta(asked, running), meta(running, running), []string{"instanceClass"}, []string{"instanceClass"}, nil},
		{"a hand edit moved it", "aws:rds/instance:Instance", meta(asked, running),
			meta(map[string]any{"instanceClass": "db.m5.large"}, map[string]any{"instanceClass": "db.m5.large"}), []string{"instanceClass"}, nil, []string{"instanceClass"}},
		{"not a deferred setting", "aws:rds/instance:Instance", meta(map[string]any{"backupRetentionPeriod": 14.0}, running), meta(running, running),
			[]string{"backupRetentionPeriod"}, nil, []string{"backupRetentionPeriod"}},
		{"applyImmediately on", "aws:rds/instance:Instance", meta(map[string]any{"instanceClass": "db.r6g.large", "applyImmediately": true}, running),
			meta(running, running), []string{"instanceClass"}, nil, []string{"instanceClass"}},
		{"another type", "aws:ec2/securityGroup:SecurityGroup", meta(asked, running), meta(running, running), []string{"instanceClass"}, nil, []string{"instanceClass"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, d := splitPending(tc.typ, tc.state, tc.live, tc.paths)
			if !reflect.DeepEqual(p, tc.wantPend) || !reflect.DeepEqual(d, tc.wantDrft) {
				t.Fatalf("pending %v drift %v; want %v %v", p, d, tc.wantPend, tc.wantDrft)
			}
		})
	}
}

// TestRestoreAsked: after a state refresh the asked value goes back where the
// instance still runs the old one, and only there.
func TestRestoreAsked(t *testing.T) {
	pre := &deployment{resources: []map[string]any{{
		"urn": dbURN, "type": "aws:rds/instance:Instance",
		"inputs":  map[string]any{"instanceClass": "db.r6g.large", "allocatedStorage": 80.0, "applyImmediately": false},
		"outputs": map[string]any{"instanceClass": "db.t4g.medium", "allocatedStorage": 50.0},
	}}}
	before := askedDeferred(pre)
	if len(before[dbURN]) != 2 {
		t.Fatalf("asked: %v", before)
	}
	// The refresh wrote the running values; storage was applied meanwhile.
	post := &deployment{resources: []map[string]any{{
		"urn": dbURN, "type": "aws:rds/instance:Instance",
		"inputs":  map[string]any{"instanceClass": "db.t4g.medium", "allocatedStorage": 80.0, "applyImmediately": false},
		"outputs": map[string]any{"instanceClass": "db.t4g.medium", "allocatedStorage": 80.0},
	}}}
	if got := restoreAsked(post, before); !reflect.DeepEqual(got, []string{dbURN}) {
		t.Fatalf("restored %v", got)
	}
	in := post.resources[0]["inputs"].(map[string]any)
	if in["instanceClass"] != "db.r6g.large" || in["allocatedStorage"] != 80.0 {
		t.Fatalf("inputs after the restore: %v", in)
	}
	// A second pass changes nothing.
	if got := restoreAsked(post, before); len(got) != 0 {
		t.Fatalf("restored twice: %v", got)
	}
}

// TestPendingOnly: an update is left out only when it asks again for exactly
// what is pending.
func TestPendingOnly(t *testing.T) {
	ps := pendingSet{dbURN: {"instanceClass": "db.r6g.large"}}
	upd := func(props ...PropertyChange) ResourceChange {
		return ResourceChange{URN: dbURN, Kind: "update", Properties: props}
	}
	for _, tc := range []struct {
		name string
		c    ResourceChange
		want bool
	}{
		{"the pending class again", upd(PropertyChange{Path: "instanceClass", Live: "db.r6g.large"}), true},
		{"another class", upd(PropertyChange{Path: "instanceClass", Live: "db.r6g.xlarge"}), false},
		{"the class and more", upd(PropertyChange{Path: "instanceClass", Live: "db.r6g.large"}, PropertyChange{Path: "backupRetentionPeriod", Live: 14.0}), false},
		{"a replacement", ResourceChange{URN: dbURN, Kind: "replace", Properties: []PropertyChange{{Path: "instanceClass", Live: "db.r6g.large"}}}, false},
	} {
		if got := ps.pendingOnly(tc.c); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestWindowApplied: the window ran what was asked (outputs moved to the
// input); a hand edit to another value, or nothing moving, is not that.
func TestWindowApplied(t *testing.T) {
	const typ = "aws:rds/instance:Instance"
	state := meta(map[string]any{"instanceClass": "db.r6g.large"}, map[string]any{"instanceClass": "db.t4g.medium"})
	for _, tc := range []struct {
		name string
		live string
		want bool
	}{{"applied", "db.r6g.large", true}, {"still pending", "db.t4g.medium", false}, {"hand edit", "db.m5.large", false}} {
		live := meta(map[string]any{"instanceClass": tc.live}, map[string]any{"instanceClass": tc.live})
		if got := windowApplied(typ, state, live); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

// TestPendingFixes: a mandatory finding that the pending values fix is
// downgraded, saying why; one they do not fix stays.
func TestPendingFixes(t *testing.T) {
	pol := policypack.Config{Production: true, BackupRetentionDays: 7}
	inst := policypack.Resource{URN: dbURN, Type: "aws:rds/instance:Instance", Properties: policypack.FromJSON(map[string]any{
		"multiAz": false, "storageEncrypted": true, "publiclyAccessible": false, "deletionProtection": true, "backupRetentionPeriod": 7.0,
		"manageMasterUserPassword": true, "caCertIdentifier": "rds-ca-rsa2048-g1"})}
	found := policypack.Evaluate([]policypack.Resource{inst}, pol)
	var multi *policypack.Violation
	for i := range found {
		if found[i].Rule == "rds-multi-az-production" {
			multi = &found[i]
		}
	}
	if multi == nil || multi.Level != policypack.Mandatory {
		t.Fatalf("the single-AZ production instance is not a mandatory finding: %+v", found)
	}
	for _, tc := range []struct {
		name  string
		ps    pendingSet
		level policypack.Level
	}{
		{"multiAz pending", pendingSet{dbURN: {"multiAz": true}}, policypack.Advisory},
		{"another setting pending", pendingSet{dbURN: {"instanceClass": "db.r6g.large"}}, policypack.Mandatory},
	} {
		for _, v := range pendingFixes([]policypack.Resource{inst}, tc.ps, found, pol) {
			if v.Rule == "rds-multi-az-production" && (v.Level != tc.level || (tc.level == policypack.Advisory && !strings.Contains(v.Downgraded, "maintenance window"))) {
				t.Errorf("%s: %+v", tc.name, v)
			}
		}
	}
}
