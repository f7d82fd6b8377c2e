package automation_test

import (
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
)

func TestWorst(t *testing.T) {
	for _, tc := range []struct {
		codes []int
		want  int
	}{{nil, 0}, {[]int{0, 2}, 2}, {[]int{2, 3, 0}, 3}, {[]int{3, 1, 2}, 1}, {[]int{0, 0}, 0}} {
		if got := automation.Worst(tc.codes...); got != tc.want {
			t.Errorf("Worst(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
}

func TestMarkdownIsCutWithANote(t *testing.T) {
	s := automation.StackReport{Stack: "prod", Result: "drift", ExitCode: 2}
	for i := 0; i < 500; i++ {
		s.Changes = append(s.Changes, automation.ResourceChange{URN: "urn:x::r", Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", Name: strings.Repeat("é", 40), Kind: "changed",
			Properties: []automation.PropertyChange{{Path: "cidrIpv4", Kind: "update", State: "10.0.0.0/8", Live: "0.0.0.0/0"}}})
	}
	r := automation.NewReport("drift", "test", "3.230.0", []automation.StackReport{s})
	md := r.Markdown(5000)
	if len(md) > 5000 || !strings.Contains(md, "cut at 5000 characters") || !strings.Contains(md, "| `prod` |") {
		t.Fatalf("len %d, tail %q", len(md), md[len(md)-120:])
	}
	if !strings.HasPrefix(md, "## deployer drift — exit 2") {
		t.Fatalf("head %q", md[:40])
	}
	if full := r.Markdown(0); len(full) > automation.DefaultMarkdownLimit || !strings.Contains(full, "cut at 60000") {
		t.Fatalf("default limit: %d characters", len(full))
	}
	small := automation.NewReport("drift", "test", "", []automation.StackReport{{Stack: "dev", Result: "clean"}})
	if md := small.Markdown(0); strings.Contains(md, "cut at") {
		t.Fatal("a small report was cut")
	}
}

func TestBackendURLs(t *testing.T) {
	for _, ok := range []string{"file:///var/state", "s3://bucket/prefix", "postgres://deployer@db:5432/state?sslmode=verify-full", "postgresql://db/state"} {
		if err := automation.ValidateBackendURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for raw, want := range map[string]string{
		"postgres://u:hunter2@db/state":        "PGPASSWORD",
		"postgres://db/state?password=hunter2": "PGPASSWORD",
		"gs://bucket":                          "not supported",
		"file://":                              "needs a folder",
	} {
		err := automation.ValidateBackendURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

func TestSecretsProvider(t *testing.T) {
	t.Setenv(automation.PassphraseEnv, "")
	t.Setenv(automation.PassphraseFileEnv, "")
	if err := automation.CheckSecretsProvider(""); err == nil || !strings.Contains(err.Error(), automation.PassphraseEnv) {
		t.Fatalf("missing passphrase: %v", err)
	}
	if err := automation.CheckSecretsProvider("awskms://alias/deployer"); err != nil {
		t.Fatal(err)
	}
	if err := automation.CheckSecretsProvider("vault"); err == nil {
		t.Fatal("a bare word accepted as a secrets provider")
	}
	f := t.TempDir() + "/pass"
	t.Setenv(automation.PassphraseFileEnv, f)
	if err := automation.CheckSecretsProvider("passphrase"); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Fatalf("unreadable file: %v", err)
	}
}

func TestCancelledIsWorstAndMarksOnlyCutShortStacks(t *testing.T) {
	for _, c := range []struct {
		codes []int
		want  int
	}{
		{[]int{automation.ExitOK, automation.ExitChanges}, automation.ExitChanges},
		{[]int{automation.ExitChanges, automation.ExitBlocked}, automation.ExitBlocked},
		{[]int{automation.ExitBlocked, automation.ExitError}, automation.ExitError},
		{[]int{automation.ExitError, 143, automation.ExitOK}, 143},
		{[]int{130}, 130},
	} {
		if got := automation.Worst(c.codes...); got != c.want {
			t.Errorf("automation.Worst(%v) = %d, want %d", c.codes, got, c.want)
		}
	}
	reps := []automation.StackReport{{Stack: "a", Result: "done"}, {Stack: "b", Result: "error", ExitCode: automation.ExitError, Step: "up"}}
	automation.MarkCancelled(reps, 143, "terminated")
	if reps[0].Result != "done" || len(reps[0].Notes) != 0 {
		t.Errorf("a finished stack was marked: %+v", reps[0])
	}
	if reps[1].Result != "cancelled" || reps[1].ExitCode != 143 || len(reps[1].Notes) != 1 || !strings.Contains(reps[1].Notes[0], "at step up") {
		t.Errorf("the cut-short stack: %+v", reps[1])
	}
}

// The summary counts creates, updates, replaces and deletes apart, and a map
// diff names the key that changed with its values, however long the map.
func TestMarkdownCountsKindsAndShowsMapKeys(t *testing.T) {
	long := strings.Repeat("x", 120)
	s := automation.StackReport{Stack: "prod", Result: "changes", Changes: []automation.ResourceChange{
		{Name: "a", Kind: "create"}, {Name: "b", Kind: "create"}, {Name: "c", Kind: "update", Properties: []automation.PropertyChange{{
			Path: "tags", Kind: "update",
			State: map[string]any{"Owner": long, "CostCenter": "gis", "Old": "1"},
			Live:  map[string]any{"Owner": long, "CostCenter": "gis-platform", "New": "2"},
		}}}, {Name: "d", Kind: "replace"}, {Name: "e", Kind: "delete"}, {Name: "f", Kind: "delete"}, {Name: "g", Kind: "delete"},
	}}
	md := automation.NewReport("preview", "test", "", []automation.StackReport{s}).Markdown(0)
	if !strings.Contains(md, "| create | update | replace | delete |") || !strings.Contains(md, "| `prod` | 📝 changes | 2 | 1 | 1 | 3 | 0 |") {
		t.Fatalf("counts:\n%s", md)
	}
	for _, want := range []string{"`tags.CostCenter`: `\"gis\"` → `\"gis-platform\"`", "`tags.Old`: `\"1\"` → ∅", "`tags.New`: ∅ → `\"2\"`"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %s in:\n%s", want, md)
		}
	}
	if strings.Contains(md, "tags.Owner") || strings.Contains(md, "…") {
		t.Errorf("an unchanged key or a cut value is shown:\n%s", md)
	}
}
