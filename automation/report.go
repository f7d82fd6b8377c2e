package automation

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
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
	SchemaVersion string    `json:"schemaVersion"`
	Command       string    `json:"command"`
	GeneratedAt   time.Time `json:"generatedAt"`
	Deployer      string    `json:"deployerVersion"`
	CLI           string    `json:"pulumiVersion,omitempty"`
	// Project is the Pulumi project the stacks belong to (it names the
	// stacks' markers in Markdown).
	Project  string        `json:"project,omitempty"`
	ExitCode int           `json:"exitCode"`
	Stacks   []StackReport `json:"stacks"`
	// Shard says which share of a fleet this report covers (--shard), so
	// MergeReports can tell a stack missing or run twice.
	Shard *Shard `json:"shard,omitempty"`
	// FullReport says where the whole report is, for the note of a cut
	// Markdown report (a path, a URL).
	FullReport string `json:"-"`
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
	Pending   []ResourceChange `json:"pending,omitempty"`
	Unmanaged []UnmanagedRule  `json:"unmanaged"`
	// Ignored is drift the project's .driftignore.yaml left out on purpose
	// (drift only): listed, not counted.
	Ignored    []Ignored              `json:"ignored,omitempty"`
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
