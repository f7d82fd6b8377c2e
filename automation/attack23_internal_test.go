package automation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Findings of the outside review of saved plans, shards, known drift and
// pauses, each held here.

// A misspelt key must not widen an entry to every stack.
func TestDriftIgnoreRefusesUnknownKeys(t *testing.T) {
	_, err := loadDriftIgnore(writeIgnore(t, "- {pattern: 'a.b', stack: [other], reason: r, expires: 2027-01-01}"), today)
	if err == nil || !strings.Contains(err.Error(), "stack") || !strings.Contains(err.Error(), DriftIgnoreFile) {
		t.Fatalf("a misspelt key: %v", err)
	}
}

// Shard reports that no --shard run writes are refused, never a panic.
func TestMergeRefusesForgedShards(t *testing.T) {
	base := func() Report {
		r := NewReport("drift", "t", "", []StackReport{{Stack: "a", Result: ResultClean}})
		r.Shard = &Shard{Index: 1, Count: 1, Fleet: []string{"a"}}
		return r
	}
	for name, edit := range map[string]func(r *Report){
		"count 0":            func(r *Report) { r.Shard.Count = 0 },
		"index 9 of 2":       func(r *Report) { r.Shard.Index, r.Shard.Count = 9, 2 },
		"an empty fleet":     func(r *Report) { r.Shard.Fleet = nil; r.Stacks = nil },
		"a stack not in it":  func(r *Report) { r.Stacks[0].Stack = "b" },
		"a better exit code": func(r *Report) { r.Stacks[0].Result, r.Stacks[0].ExitCode = ResultError, ExitError },
		"exit 7":             func(r *Report) { r.Stacks[0].ExitCode, r.ExitCode = 7, 7 },
	} {
		r := base()
		edit(&r)
		if _, err := MergeReports([]ReportPart{{Source: "x.json", Report: r}}, "v"); err == nil {
			t.Errorf("%s: merged", name)
		}
	}
	if _, err := MergeReports([]ReportPart{{Source: "ok.json", Report: base()}}, "v"); err != nil {
		t.Fatalf("a good shard: %v", err)
	}
}

// A comment stays below GitHub's limit whatever --markdown-limit says, HTML
// in a value cannot hide the rest, and a cut never lands in a marker.
func TestCommentLimitsAndEscapes(t *testing.T) {
	s := StackReport{Stack: "dev", Result: ResultDrift, ExitCode: ExitChanges, Notes: []string{"<!-- hide the rest"}}
	for i := 0; i < 3000; i++ {
		s.Notes = append(s.Notes, strings.Repeat("n", 60))
	}
	r := NewReport("drift", "t", "", []StackReport{s})
	md, _ := r.StackMarkdown("dev", 100000)
	if len(md) > DefaultMarkdownLimit || strings.Count(md, "<!--") != strings.Count(md, Marker("", "dev")) || !strings.Contains(md, "&lt;!-- hide the rest") || !strings.Contains(md, "has everything") {
		t.Fatalf("comment: %d characters, %d markers", len(md), strings.Count(md, "<!--"))
	}
	small := NewReport("drift", "t", "", []StackReport{{Stack: "dev", Result: ResultClean}, {Stack: "prod", Result: ResultClean}})
	full := small.Markdown(0)
	at := strings.Index(full, "<!-- deployer:stack=prod") + 10
	cut := small.Markdown(at + len("\n\n_… cut at 0000 characters; the JSON report (`--json`) has everything._\n"))
	if strings.LastIndex(cut, "<!--") > strings.LastIndex(cut, "-->") {
		t.Fatalf("the cut ends inside a marker:\n%s", cut)
	}
}

// A passphrase file that cannot be read is an error, not a weaker seal.
func TestPlanKeyFromAnUnreadableFile(t *testing.T) {
	s := Settings{Env: map[string]string{PassphraseFileEnv: filepath.Join(t.TempDir(), "missing")}}
	if _, err := s.planKey(); err == nil || !strings.Contains(err.Error(), PassphraseFileEnv) {
		t.Fatalf("missing file: %v", err)
	}
	f := filepath.Join(t.TempDir(), "pass")
	_ = os.WriteFile(f, []byte("s3cret\n"), 0o600)
	if k, err := (Settings{Env: map[string]string{PassphraseFileEnv: f}}).planKey(); err != nil || k != "s3cret" {
		t.Fatalf("file: %q %v", k, err)
	}
}

// The config digest changes with a $DEPLOYER_… value the stack file reads.
func TestConfigDigestReadsEnvReferences(t *testing.T) {
	file := []byte("config:\n  postgis-platform:dbPort: $DEPLOYER_PG_PORT\n")
	t.Setenv("DEPLOYER_PG_PORT", "5432")
	a := envReferenced(file)
	t.Setenv("DEPLOYER_PG_PORT", "5433")
	if b := envReferenced(file); string(a) == string(b) || !strings.Contains(string(b), "DEPLOYER_PG_PORT=5433") {
		t.Fatalf("%q %q", a, b)
	}
}
