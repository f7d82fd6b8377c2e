package automation

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/postgis-platform/deployer/dbcheck"
	"github.com/postgis-platform/deployer/policypack"
)

// SchemaVersion identifies the JSON report format (docs/report.schema.json).
// It changes only when a field is removed or changes meaning.
const SchemaVersion = "deployer.report/v1"

// Exit codes, after terraform's detailed convention. Across stacks the worst
// wins: Error > Blocked > Changes > OK.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2
	ExitBlocked = 3
	// ExitCancelled is the lowest code of a run cancelled by a signal: the
	// shell's 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
	ExitCancelled = 128
)

// Worst combines exit codes: cancelled > 1 > 3 > 2 > 0.
func Worst(codes ...int) int {
	worst := ExitOK
	for _, c := range codes {
		if exitRank(c) > exitRank(worst) {
			worst = c
		}
	}
	return worst
}

func exitRank(code int) int {
	if code >= ExitCancelled {
		return 4
	}
	return map[int]int{ExitOK: 0, ExitChanges: 1, ExitBlocked: 2, ExitError: 3}[code]
}

// MarkCancelled turns the reports a cancellation cut short (result error)
// into result cancelled with exit code code; finished stacks keep their result.
func MarkCancelled(reports []StackReport, code int, signal string) {
	for i := range reports {
		r := &reports[i]
		if r.Result != ResultError {
			continue
		}
		r.settle(ResultCancelled, code)
		r.Notes = append(r.Notes, fmt.Sprintf("cancelled by %s at step %s: the engine was asked to stop after its in-flight operations and to release the stack lock; the next `deployer up` finishes the work or names what is pending", signal, r.Step))
	}
}

// Report is what a command prints as JSON and Markdown.
type Report struct {
	SchemaVersion string        `json:"schemaVersion"`
	Command       string        `json:"command"`
	GeneratedAt   time.Time     `json:"generatedAt"`
	Deployer      string        `json:"deployerVersion"`
	CLI           string        `json:"pulumiVersion,omitempty"`
	ExitCode      int           `json:"exitCode"`
	Stacks        []StackReport `json:"stacks"`
}

// StackReport is one stack's outcome.
type StackReport struct {
	Stack string `json:"stack"`
	// Result: clean, drift, changes, blocked, done, error or cancelled.
	Result   Result `json:"result"`
	ExitCode int    `json:"exitCode"`
	// Step names the step that stopped the run, when one did.
	Step    string           `json:"step,omitempty"`
	Summary Summary          `json:"summary"`
	Changes []ResourceChange `json:"changes"`
	// Pending are modifications the cloud accepted and keeps for later (an
	// RDS change without applyImmediately waits for the maintenance
	// window): not drift, and never asked for again.
	Pending    []ResourceChange       `json:"pending,omitempty"`
	Unmanaged  []UnmanagedRule        `json:"unmanaged"`
	Violations []policypack.Violation `json:"violations"`
	// Checks are the live database checks (up, verify).
	Checks []dbcheck.Result `json:"checks,omitempty"`
	Notes  []string         `json:"notes,omitempty"`
	Error  string           `json:"error,omitempty"`
	// err is the error behind Error, for Err.
	err error
}

// Err is the error that stopped the run (nil when none did), to branch on
// with errors.Is: ErrDestructiveChange, ErrImpossibleChange, ErrDrift,
// ErrConfig, ErrSettings, ErrNotVerified.
func (s StackReport) Err() error { return s.err }

// settle sets the result and its exit code, the one place that does.
func (s *StackReport) settle(r Result, exitCode int) {
	s.finish()
	s.Result, s.ExitCode = r, exitCode
}

// Summary counts a stack's findings.
type Summary struct {
	Changed            int `json:"changed"`
	Missing            int `json:"missing"`
	Unmanaged          int `json:"unmanaged"`
	Violations         int `json:"violations"`
	BlockingViolations int `json:"blockingViolations"`
	// Pending counts resources with modifications the cloud keeps for later.
	Pending int `json:"pending,omitempty"`
}

// ResourceChange is a resource whose live state differs from the stack's
// state (drift) or that a plan changes.
type ResourceChange struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	// ID is the cloud ID, when known.
	ID string `json:"id,omitempty"`
	// Kind: changed, missing (drift); or the plan's operation.
	Kind       string           `json:"kind"`
	Properties []PropertyChange `json:"properties,omitempty"`
}

// PropertyChange is one property's difference; secret values show as
// "[secret]".
type PropertyChange struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	// State is the value the stack's state holds; Live what the provider
	// reports (drift) or what the plan sets.
	State any `json:"state,omitempty"`
	Live  any `json:"live,omitempty"`
}

func (s *StackReport) finish() {
	s.Summary = Summary{Unmanaged: len(s.Unmanaged), Violations: len(s.Violations), Pending: len(s.Pending)}
	sort.Slice(s.Pending, func(i, j int) bool { return s.Pending[i].URN < s.Pending[j].URN })
	for _, c := range s.Changes {
		if c.Kind == "missing" {
			s.Summary.Missing++
		} else {
			s.Summary.Changed++
		}
	}
	s.Summary.BlockingViolations = len(policypack.Blocking(s.Violations))
	sort.Slice(s.Changes, func(i, j int) bool { return s.Changes[i].URN < s.Changes[j].URN })
	sort.Slice(s.Unmanaged, func(i, j int) bool { return s.Unmanaged[i].RuleID < s.Unmanaged[j].RuleID })
	if s.Changes == nil {
		s.Changes = []ResourceChange{}
	}
	if s.Unmanaged == nil {
		s.Unmanaged = []UnmanagedRule{}
	}
	if s.Violations == nil {
		s.Violations = []policypack.Violation{}
	}
}

// NewReport assembles a report; its exit code is the worst of the stacks'.
func NewReport(command, deployerVersion, cliVersion string, stacks []StackReport) Report {
	r := Report{SchemaVersion: SchemaVersion, Command: command, GeneratedAt: time.Now().UTC().Truncate(time.Second),
		Deployer: deployerVersion, CLI: cliVersion, Stacks: stacks}
	codes := make([]int, len(stacks))
	for i, s := range stacks {
		codes[i] = s.ExitCode
	}
	r.ExitCode = Worst(codes...)
	return r
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// DefaultMarkdownLimit keeps a report under GitHub's 65,536-character limit
// for a comment (a step summary takes 1 MiB).
const DefaultMarkdownLimit = 60000

// Markdown renders the report for a CI step summary or a PR comment, cut to
// limit characters with a note saying so.
func (r Report) Markdown(limit int) string {
	if limit <= 0 {
		limit = DefaultMarkdownLimit
	}
	var b strings.Builder
	icon := map[Result]string{"clean": "✅", "done": "✅", "drift": "⚠️", "changes": "📝", "blocked": "⛔", "error": "❌", "cancelled": "🛑"}
	fmt.Fprintf(&b, "## deployer %s — exit %d\n\n", r.Command, r.ExitCode)
	b.WriteString("| stack | result | create | update | replace | delete | drifted | missing | unmanaged | violations (blocking) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Stacks {
		k := countKinds(s.Changes)
		fmt.Fprintf(&b, "| `%s` | %s %s | %d | %d | %d | %d | %d | %d | %d | %d (%d) |\n", s.Stack, icon[s.Result], s.Result,
			k["create"], k["update"], k["replace"], k["delete"], k["changed"], s.Summary.Missing, s.Summary.Unmanaged,
			s.Summary.Violations, s.Summary.BlockingViolations)
	}
	for _, s := range r.Stacks {
		fmt.Fprintf(&b, "\n### `%s`: %s\n", s.Stack, s.Result)
		if s.Error != "" {
			fmt.Fprintf(&b, "\n**Error%s:** %s\n", stepSuffix(s.Step), mdEscape(s.Error))
		}
		if len(s.Violations) > 0 {
			b.WriteString("\n**Policy findings**\n\n| level | rule | resource | finding |\n|---|---|---|---|\n")
			for _, v := range s.Violations {
				lvl := string(v.Level)
				if v.Downgraded != "" {
					lvl += " (" + v.Downgraded + ")"
				}
				fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", lvl, v.Rule, urnName(v.URN), mdEscape(v.Message))
			}
		}
		if len(s.Changes) > 0 {
			b.WriteString("\n**Resources**\n\n| resource | kind | properties |\n|---|---|---|\n")
			for _, c := range s.Changes {
				var props []string
				for _, p := range c.Properties {
					props = append(props, mdProperty(p))
				}
				fmt.Fprintf(&b, "| `%s` (%s) | %s | %s |\n", c.Name, c.Type, c.Kind, strings.Join(props, "<br>"))
			}
		}
		mdPending(&b, s.Pending)
		if len(s.Unmanaged) > 0 {
			b.WriteString("\n**Rules not in the state** (created outside the program)\n\n")
			for _, u := range s.Unmanaged {
				fmt.Fprintf(&b, "- %s\n", mdEscape(u.String()))
			}
		}
		if len(s.Checks) > 0 {
			b.WriteString("\n**Live database checks**\n\n")
			for _, c := range s.Checks {
				if c.OK {
					fmt.Fprintf(&b, "- ✅ %s\n", mdEscape(c.Name))
				} else {
					fmt.Fprintf(&b, "- ❌ %s: found %s; fix: %s\n", mdEscape(c.Name), mdEscape(c.Found), mdEscape(c.Fix))
				}
			}
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "\n> %s\n", mdEscape(n))
		}
	}
	out := b.String()
	if len(out) > limit {
		note := fmt.Sprintf("\n\n_… cut at %d characters; the JSON report (`--json`) has everything._\n", limit)
		cut := limit - len(note)
		if cut < 0 {
			cut = 0
		}
		for cut > 0 && !utf8Start(out[cut]) {
			cut--
		}
		out = out[:cut] + note
	}
	return out
}

// mdPending renders the modifications the cloud holds for later.
func mdPending(b *strings.Builder, pending []ResourceChange) {
	if len(pending) == 0 {
		return
	}
	b.WriteString("\n**Pending** (accepted by the cloud, applied in the next maintenance window; not drift, not asked again)\n\n| resource | properties (asked → running) |\n|---|---|\n")
	for _, c := range pending {
		var props []string
		for _, p := range c.Properties {
			props = append(props, fmt.Sprintf("`%s`: %s → %s", p.Path, mdValue(p.State), mdValue(p.Live)))
		}
		fmt.Fprintf(b, "| `%s` (%s) | %s |\n", c.Name, c.Type, strings.Join(props, "<br>"))
	}
}

// countKinds counts a stack's changes by kind (create, update, replace,
// delete for a plan; changed, missing for drift).
func countKinds(changes []ResourceChange) map[string]int {
	n := map[string]int{}
	for _, c := range changes {
		n[c.Kind]++
	}
	return n
}

// mdProperty renders one property change. A map (tags, parameters) shows the
// keys that changed, each with its old and new value, instead of both whole
// maps cut short.
func mdProperty(p PropertyChange) string {
	old, oldMap := p.State.(map[string]any)
	cur, curMap := p.Live.(map[string]any)
	if !oldMap && !curMap || (p.State != nil && !oldMap) || (p.Live != nil && !curMap) {
		return fmt.Sprintf("`%s`: %s → %s", p.Path, mdValue(p.State), mdValue(p.Live))
	}
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		ov, oin := old[k]
		nv, nin := cur[k]
		if oin && nin && fmt.Sprint(ov) == fmt.Sprint(nv) {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("`%s.%s`: %s → %s", p.Path, mdEscape(k), mdValue(old[k]), mdValue(cur[k])))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("`%s`: (same keys and values)", p.Path)
	}
	return strings.Join(parts, "<br>")
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func stepSuffix(step string) string {
	if step == "" {
		return ""
	}
	return " at step " + step
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

func mdValue(v any) string {
	if v == nil {
		return "∅"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "…"
	}
	return "`" + mdEscape(s) + "`"
}
