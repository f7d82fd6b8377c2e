package automation_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/automation"
)

func TestParseShard(t *testing.T) {
	for spec, ok := range map[string]bool{"1/1": true, "2/3": true, "3/3": true, " 1/2 ": true,
		"0/3": false, "4/3": false, "1/0": false, "x/3": false, "1": false, "": false, "1/-1": false, "-1/3": false} {
		sh, err := automation.ParseShard(spec)
		if (err == nil) != ok {
			t.Errorf("ParseShard(%q) = %v, %v", spec, sh, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--shard") {
			t.Errorf("the error names the flag: %v", err)
		}
	}
}

// Every stack is in exactly one shard, whatever the fleet's order, and the
// shards are not all empty but one.
func TestShardsCoverTheFleetOnce(t *testing.T) {
	var fleet []string
	for i := 0; i < 12; i++ {
		fleet = append(fleet, fmt.Sprintf("stack-%02d", i))
	}
	seen := map[string]int{}
	nonEmpty := 0
	for i := 1; i <= 3; i++ {
		sh := automation.Shard{Index: i, Count: 3}
		got := sh.Of(fleet)
		rev := automation.Shard{Index: i, Count: 3}
		reversed := append([]string(nil), fleet...)
		for l, r := 0, len(reversed)-1; l < r; l, r = l+1, r-1 {
			reversed[l], reversed[r] = reversed[r], reversed[l]
		}
		if len(rev.Of(reversed)) != len(got) {
			t.Fatalf("shard %d depends on the fleet's order", i)
		}
		if len(got) > 0 {
			nonEmpty++
		}
		for _, s := range got {
			seen[s]++
		}
		if len(sh.Fleet) != 12 {
			t.Fatalf("the shard records the fleet: %v", sh.Fleet)
		}
	}
	if len(seen) != 12 || nonEmpty < 2 {
		t.Fatalf("seen %v, %d shards hold stacks", seen, nonEmpty)
	}
	for s, n := range seen {
		if n != 1 {
			t.Fatalf("%s in %d shards", s, n)
		}
	}
}

// shardReports runs nothing: it makes the report each shard of fleet would
// write, each stack with the result result(stack).
func shardReports(fleet []string, count int, result func(string) automation.Result) []automation.ReportPart {
	var parts []automation.ReportPart
	for i := 1; i <= count; i++ {
		sh := automation.Shard{Index: i, Count: count}
		var stacks []automation.StackReport
		for _, name := range sh.Of(fleet) {
			stacks = append(stacks, automation.StackReport{Stack: name, Result: result(name), ExitCode: result(name).ExitCode()})
		}
		r := automation.NewReport("drift", "test", "3.274.1", stacks)
		r.Shard = &sh
		parts = append(parts, automation.ReportPart{Source: fmt.Sprintf("drift-%d.json", i), Report: r})
	}
	return parts
}

func TestMergeReports(t *testing.T) {
	fleet := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	result := func(s string) automation.Result {
		switch s {
		case "c":
			return automation.ResultDrift
		case "f":
			return automation.ResultError
		}
		return automation.ResultClean
	}
	good := shardReports(fleet, 3, result)
	merged, err := automation.MergeReports(good, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(merged.Stacks) != len(fleet) || merged.ExitCode != automation.ExitError || merged.Command != "drift" || merged.Shard != nil || merged.Deployer != "v1" {
		t.Fatalf("merged: %+v", merged)
	}
	for i, s := range merged.Stacks {
		if s.Stack != fleet[i] || s.Result != result(s.Stack) {
			t.Fatalf("stack %d: %+v", i, s)
		}
	}

	withDuplicate := shardReports(fleet, 3, result)
	withDuplicate[1].Report.Stacks = append(withDuplicate[1].Report.Stacks, withDuplicate[0].Report.Stacks[0])
	missingShard := shardReports(fleet, 3, result)[:2]
	twice := shardReports(fleet, 3, result)
	twice[2] = automation.ReportPart{Source: "drift-3.json", Report: twice[1].Report}
	twice[2].Report.Stacks = nil // the same shard run twice, the second time empty
	droppedStack := shardReports(fleet, 3, result)
	for i := range droppedStack {
		if n := len(droppedStack[i].Report.Stacks); n > 0 {
			droppedStack[i].Report.Stacks = droppedStack[i].Report.Stacks[:n-1]
			break
		}
	}
	otherFleet := shardReports(fleet, 3, result)
	other := shardReports(append(fleet, "z"), 3, result)
	otherFleet[0] = other[0]
	mixed := shardReports(fleet, 3, result)
	mixed[0].Report.Command = "preview"
	unsharded := shardReports(fleet, 3, result)
	unsharded[0].Report.Shard = nil
	forged := shardReports(fleet, 3, result)
	for i := range forged {
		for j := range forged[i].Report.Stacks {
			if forged[i].Report.Stacks[j].Stack == "f" {
				forged[i].Report.Stacks[j].ExitCode = 0 // an error made to pass
			}
		}
	}
	badName := shardReports(fleet, 3, result)
	badName[0].Report.Stacks = append(badName[0].Report.Stacks, automation.StackReport{Stack: "../x", Result: "clean"})
	for name, tc := range map[string]struct {
		parts []automation.ReportPart
		want  string
	}{
		"a stack in two shards":  {withDuplicate, "is in drift-1.json and in drift-2.json"},
		"a shard missing":        {missingShard, "no report holds shard 3/3"},
		"a shard twice":          {twice, "shard 2/3 is both drift-2.json and drift-3.json"},
		"a stack in none":        {droppedStack, "no report holds stack"},
		"two fleets":             {otherFleet, "different fleets"},
		"two commands":           {mixed, "a preview report"},
		"shards and not":         {unsharded, "some reports are shards"},
		"an edited exit code":    {forged, "exit code"},
		"a stack that is a path": {badName, `"../x"`},
		"nothing":                {nil, "no report given"},
	} {
		_, err := automation.MergeReports(tc.parts, "v1")
		if !errors.Is(err, automation.ErrMerge) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// A stack's comment starts with its marker; the summary holds every
// stack's, each once.
func TestMarkdownMarkers(t *testing.T) {
	r := automation.NewReport("preview", "test", "", []automation.StackReport{{Stack: "dev", Result: "changes"}, {Stack: "prod", Result: "clean"}})
	r.Project = "postgis-platform"
	md := r.Markdown(0)
	for _, s := range []string{"dev", "prod"} {
		if m := automation.Marker("postgis-platform", s); strings.Count(md, m) != 1 {
			t.Fatalf("marker %s appears %d times", m, strings.Count(md, m))
		}
	}
	one, ok := r.StackMarkdown("dev", 0)
	if !ok || !strings.HasPrefix(one, "<!-- deployer:stack=postgis-platform/dev -->\n") || strings.Contains(one, "prod") {
		t.Fatalf("dev's comment:\n%s", one)
	}
	if _, ok := r.StackMarkdown("qa", 0); ok {
		t.Fatal("a stack the report does not hold")
	}
	big := automation.StackReport{Stack: "dev", Result: "drift"}
	for i := 0; i < 2000; i++ {
		big.Notes = append(big.Notes, strings.Repeat("n", 60))
	}
	r = automation.NewReport("drift", "test", "", []automation.StackReport{big})
	r.FullReport = "drift.json in the run's artifacts"
	cut, _ := r.StackMarkdown("dev", 0)
	if len(cut) > 65536 || !strings.Contains(cut, "drift.json in the run's artifacts has everything") || !strings.HasPrefix(cut, automation.Marker("", "dev")) {
		t.Fatalf("cut comment: %d characters, tail %q", len(cut), cut[len(cut)-100:])
	}
}
