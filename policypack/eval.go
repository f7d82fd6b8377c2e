package policypack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/baseline"
)

// Level is a rule's enforcement level.
type Level string

// Enforcement levels, as the Pulumi engine names them.
const (
	Mandatory Level = "mandatory"
	Advisory  Level = "advisory"
	Disabled  Level = "disabled"
)

// Resource is what the rules see of one resource: planned inputs in a
// preview, live state in a drift audit.
type Resource struct {
	URN  string
	Type string
	// ID is the cloud ID when known (live state), used to relate resources.
	ID         string
	Properties resource.PropertyMap
}

// Violation is one rule broken by one resource.
type Violation struct {
	Rule    string `json:"rule"`
	Level   Level  `json:"level"`
	URN     string `json:"urn"`
	Type    string `json:"type"`
	Message string `json:"message"`
	// Downgraded says why a mandatory rule reports as advisory here:
	// "exempt" (listed in deployer:exempt) or "unknown" (a value the rule
	// needs is not known until apply).
	Downgraded string `json:"downgraded,omitempty"`
}

// Config tunes the rules; zero values take the defaults. Stack config maps
// onto it.
type Config struct {
	// Levels overrides a rule's enforcement level by id.
	Levels map[string]Level
	// DatabasePort is the port never open to the internet (default 5432).
	DatabasePort int
	// BackupRetentionDays is the retention floor (default 7).
	BackupRetentionDays int
	// Production requires Multi-AZ.
	Production bool
	// Exempt lists exempt rule ids by URN, for resources without tags.
	Exempt map[string][]string
}

func (c Config) withDefaults() Config {
	if c.DatabasePort == 0 {
		c.DatabasePort = 5432
	}
	if c.BackupRetentionDays == 0 {
		c.BackupRetentionDays = 7
	}
	return c
}

// Validate checks the levels named in the config.
func (c Config) Validate() error {
	for id, l := range c.Levels {
		if RuleByID(id) == nil {
			return fmt.Errorf("policy level for unknown rule %q (rules: %s)", id, strings.Join(RuleIDs(), ", "))
		}
		if l != Mandatory && l != Advisory && l != Disabled {
			return fmt.Errorf("policy level %q for %s: use mandatory, advisory or disabled", l, id)
		}
	}
	return nil
}

// Rule is one policy.
type Rule struct {
	ID string
	// Rationale is the one-line reason for the rule.
	Rationale string
	// Level is the default enforcement level.
	Level Level
	// Types are the resource types the per-resource check reads.
	Types []string
	// CrossResource marks rules that relate resources; the engine's policy
	// pack cannot run that part (no stack policies in the Go policy SDK).
	CrossResource bool

	check func(cfg Config, r Resource) []finding
	// stack relates resources (the deployer's gates only).
	stack func(cfg Config, all []Resource) []stackFinding
}

type finding struct {
	msg     string
	unknown bool
}

type stackFinding struct {
	finding
	res Resource
}

func found(format string, args ...any) finding { return finding{msg: fmt.Sprintf(format, args...)} }

func unknownf(format string, args ...any) finding {
	return finding{msg: fmt.Sprintf(format, args...), unknown: true}
}

// RuleByID returns the rule with id, or nil.
func RuleByID(id string) *Rule {
	for i := range Rules {
		if Rules[i].ID == id {
			return &Rules[i]
		}
	}
	return nil
}

// RuleIDs lists every rule id.
func RuleIDs() []string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return ids
}

func (r Rule) applies(typ string) bool {
	for _, t := range r.Types {
		if t == typ {
			return true
		}
	}
	return false
}

// exempt returns the rule ids exempted for a resource: its deployer:exempt
// tag plus the config's list for its URN.
func exempt(cfg Config, r Resource) map[string]bool {
	out := map[string]bool{}
	for _, id := range strings.Fields(get(r.Properties, "tags", baseline.ExemptTag).str()) {
		out[id] = true
	}
	for _, id := range cfg.Exempt[r.URN] {
		out[id] = true
	}
	return out
}

func (cfg Config) level(rule Rule) Level {
	if l, ok := cfg.Levels[rule.ID]; ok {
		return l
	}
	return rule.Level
}

func violation(cfg Config, rule Rule, r Resource, f finding) Violation {
	v := Violation{Rule: rule.ID, Level: cfg.level(rule), URN: r.URN, Type: r.Type, Message: f.msg}
	switch {
	case exempt(cfg, r)[rule.ID]:
		v.Level, v.Downgraded = Advisory, "exempt"
	case f.unknown && v.Level == Mandatory:
		v.Level, v.Downgraded = Advisory, "unknown"
	}
	return v
}

// EvaluateResource runs the per-resource part of every rule on one resource.
func EvaluateResource(r Resource, cfg Config) []Violation {
	cfg = cfg.withDefaults()
	var out []Violation
	for _, rule := range Rules {
		if cfg.level(rule) == Disabled || rule.check == nil || !rule.applies(r.Type) {
			continue
		}
		for _, f := range rule.check(cfg, r) {
			out = append(out, violation(cfg, rule, r, f))
		}
	}
	return out
}

// Evaluate runs every rule, per resource and across resources, and returns
// the violations sorted by URN and rule.
func Evaluate(resources []Resource, cfg Config) []Violation {
	cfg = cfg.withDefaults()
	var out []Violation
	for _, r := range resources {
		out = append(out, EvaluateResource(r, cfg)...)
	}
	for _, rule := range Rules {
		if cfg.level(rule) == Disabled || rule.stack == nil {
			continue
		}
		for _, f := range rule.stack(cfg, resources) {
			out = append(out, violation(cfg, rule, f.res, f.finding))
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].URN != out[j].URN {
			return out[i].URN < out[j].URN
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// Blocking returns the mandatory violations.
func Blocking(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Level == Mandatory {
			out = append(out, v)
		}
	}
	return out
}
