package automation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postgis-platform/deployer/policypack"
)

var today = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func writeIgnore(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, DriftIgnoreFile), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Each bad entry is named with its field and fix; nothing is run.
func TestDriftIgnoreRefusesBadEntries(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"not a list":      {"pattern: x", "is not a list of entries"},
		"no reason":       {"- {pattern: 'a.b', expires: 2027-01-01}", "entry 1 (\"a.b\"): reason:"},
		"no expiry":       {"- {pattern: 'a.b', reason: r}", "expires: \"\" is not a date"},
		"bad date":        {"- {pattern: 'a.b', reason: r, expires: 31/01/2027}", "is not a date (YYYY-MM-DD)"},
		"too far":         {"- {pattern: 'a.b', reason: r, expires: 2029-01-01}", "more than 366 days away"},
		"no name":         {"- {pattern: 'aws:x', reason: r, expires: 2027-01-01}", "is not TYPE.NAME"},
		"empty property":  {"- {pattern: 'a.b.', reason: r, expires: 2027-01-01}", "is not TYPE.NAME"},
		"bad glob":        {"- {pattern: 'a.[b', reason: r, expires: 2027-01-01}", "syntax error in pattern"},
		"second is wrong": {"- {pattern: 'a.b', reason: r, expires: 2027-01-01}\n- {pattern: 'c.d', expires: 2027-01-01}", "entry 2 (\"c.d\")"},
	} {
		_, err := loadDriftIgnore(writeIgnore(t, tc.body), today)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), DriftIgnoreFile) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if d, err := loadDriftIgnore(t.TempDir(), today); d != nil || err != nil {
		t.Fatalf("no file: %v %v", d, err)
	}
}

const ruleType = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

func driftReport() StackReport {
	return StackReport{Stack: "prod", Changes: []ResourceChange{
		{URN: "urn:pulumi:prod::p::" + ruleType + "::etl", Type: ruleType, Name: "etl", Kind: "changed",
			Properties: []PropertyChange{{Path: "description"}, {Path: "cidrIpv4"}}},
		{URN: "urn:pulumi:prod::p::" + ruleType + "::tiles", Type: ruleType, Name: "tiles", Kind: "changed",
			Properties: []PropertyChange{{Path: "tags.Owner"}}},
		{URN: "urn:pulumi:prod::p::aws:rds/instance:Instance::db", Type: "aws:rds/instance:Instance", Name: "db", Kind: "missing"},
	}, Unmanaged: []UnmanagedRule{{GroupURN: "urn:g", GroupID: "sg-1", RuleID: "sgr-0abc", Direction: "ingress"}, {GroupURN: "urn:g", RuleID: "sgr-0def", Direction: "egress"}}}
}

func TestDriftIgnoreApplies(t *testing.T) {
	d, err := loadDriftIgnore(writeIgnore(t, `
- pattern: 'aws:vpc/securityGroupIngressRule:*.etl.description'
  reason: the ETL team renames it during the migration
  expires: 2027-01-31
- pattern: 'aws:vpc/*.tiles.tags'
  reason: tags set by the cost tool
  expires: 2027-02-01
- pattern: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule.sgr-0abc'
  reason: a debugging rule, removed after INC-4300
  expires: 2026-12-31
- pattern: 'aws:rds/instance:Instance.db'
  stacks: [dev]
  reason: only dev's instance is stopped at night
  expires: 2027-01-01
- pattern: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule.sgr-0def'
  reason: old
  expires: 2026-12-06
`), today)
	if err != nil {
		t.Fatal(err)
	}
	rep := driftReport()
	d.apply(&rep, today)
	// etl keeps cidrIpv4 (not ignored), loses description; tiles is gone
	// (tags.Owner under tags); the instance stays (the entry is dev's).
	if len(rep.Changes) != 2 || rep.Changes[0].Name != "etl" || len(rep.Changes[0].Properties) != 1 || rep.Changes[0].Properties[0].Path != "cidrIpv4" || rep.Changes[1].Name != "db" {
		t.Fatalf("changes left: %+v", rep.Changes)
	}
	if len(rep.Unmanaged) != 1 || rep.Unmanaged[0].RuleID != "sgr-0def" {
		t.Fatalf("unmanaged left: %+v (the expired entry must not apply)", rep.Unmanaged)
	}
	if len(rep.Ignored) != 3 || rep.Ignored[0].Property != "description" || rep.Ignored[1].Property != "tags.Owner" || rep.Ignored[2].Reason != "a debugging rule, removed after INC-4300" {
		t.Fatalf("ignored: %+v", rep.Ignored)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "expired on 2026-12-06") {
		t.Fatalf("notes: %q", rep.Notes)
	}
	// The day an entry expires it still holds; the day after it does not.
	rep = driftReport()
	d.apply(&rep, time.Date(2027, 1, 1, 23, 0, 0, 0, time.UTC))
	if len(rep.Unmanaged) != 2 {
		t.Fatalf("sgr-0abc's entry expired on 2026-12-31: %+v", rep.Unmanaged)
	}
}

// An ignored rule that opens the database port keeps its mandatory finding.
func TestDriftIgnoreNeverHidesAMandatoryFinding(t *testing.T) {
	d, err := loadDriftIgnore(writeIgnore(t, "- {pattern: '"+ruleType+".sgr-0abc', reason: r, expires: 2027-01-01}"), today)
	if err != nil {
		t.Fatal(err)
	}
	rep := driftReport()
	rep.Violations = []policypack.Violation{{Rule: "sg-no-public-db-ingress", Level: policypack.Mandatory, URN: "urn:g$unmanaged:sgr-0abc"}}
	d.apply(&rep, today)
	rep.finish()
	if len(rep.Ignored) != 1 || rep.Summary.BlockingViolations != 1 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "never ignored") {
		t.Fatalf("ignored %+v, summary %+v, notes %q", rep.Ignored, rep.Summary, rep.Notes)
	}
}
