package automation

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A plan is sealed with the stack's passphrase: read with another, or
// edited in any field, it is refused as stale; the basis names what moved.
func TestSavedPlanSeal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	ss := &session{s: Settings{Env: map[string]string{PassphraseEnv: "correct horse"}}}
	p := SavedPlan{Schema: PlanSchema, Stack: "prod", From: PlanBasis{State: "s1", Config: "c1", Program: "p1"}, Engine: json.RawMessage(`{"resourcePlans":{}}`)}
	if err := ss.writePlan(path, p); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadPlan(path, "correct horse"); err != nil || got.Stack != "prod" || !strings.HasPrefix(got.Digest, "hmac-sha256:") {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := ReadPlan(path, "another"); !errors.Is(err, ErrPlanStale) {
		t.Fatalf("another passphrase: %v", err)
	}
	raw, _ := os.ReadFile(path)
	for _, edit := range [][2]string{{`"prod"`, `"dev"`}, {`"s1"`, `"s2"`}, {`"resourcePlans": {}`, `"resourcePlans": {"x": 1}`}} {
		if err := os.WriteFile(path, []byte(strings.Replace(string(raw), edit[0], edit[1], 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPlan(path, "correct horse"); !errors.Is(err, ErrPlanStale) {
			t.Fatalf("edit %s: %v", edit, err)
		}
	}
	if err := os.WriteFile(path, []byte(`{"schema":"something else"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPlan(path, ""); err == nil || !strings.Contains(err.Error(), "is not a plan") {
		t.Fatalf("not a plan: %v", err)
	}
	b := PlanBasis{State: "s1", Config: "c1", Program: "p1"}
	if m := b.moved(PlanBasis{State: "s2", Config: "c1", Program: "p2"}); !strings.Contains(m, "state") || strings.Contains(m, "config") || !strings.Contains(m, "deployer") {
		t.Fatalf("moved: %q", m)
	}
}

// Builds from one source tree make one program; without a stamp the binary
// itself names it.
func TestProgramBasis(t *testing.T) {
	a, _ := Settings{Source: "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}.programBasis()
	b, _ := Settings{Source: "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}.programBasis()
	c, _ := Settings{Source: "ffffffffffffffffffffffffffffffffffffffff"}.programBasis()
	bin, err := Settings{}.programBasis()
	if a != b || a == c || err != nil || !strings.HasPrefix(bin, "binary:") || len(bin) != len("binary:")+64 {
		t.Fatalf("%q %q %q %q %v", a, b, c, bin, err)
	}
}
