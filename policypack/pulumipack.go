package policypack

import (
	"context"
	"fmt"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/postgis-platform/deployer/baseline"
)

// PackName is the policy pack's name (PulumiPolicy.yaml).
const PackName = "postgis-baseline"

// PackVersion is the policy pack's version.
var PackVersion = semver.MustParse("1.0.0")

// AdvisorySuffix names the advisory twin of each rule: findings the engine
// must not block on (an exempt resource, a value unknown until apply) are
// reported under "<id>-advisory", since one policy has one level.
const AdvisorySuffix = "-advisory"

// configSchema is the per-policy config the pack reads (set with
// --policy-pack-config); enforcementLevel is the engine's own.
var configSchema = &policyx.ConfigSchema{Properties: map[string]map[string]any{
	"production":          {"type": "boolean"},
	"backupRetentionDays": {"type": "integer"},
	"databasePort":        {"type": "integer"},
}}

func configFrom(m map[string]any) Config {
	var c Config
	if v, ok := m["production"].(bool); ok {
		c.Production = v
	}
	if v, ok := m["backupRetentionDays"].(float64); ok {
		c.BackupRetentionDays = int(v)
	}
	if v, ok := m["databasePort"].(float64); ok {
		c.DatabasePort = int(v)
	}
	return c.withDefaults()
}

func engineLevel(l Level) policyx.EnforcementLevel {
	switch l {
	case Mandatory:
		return policyx.EnforcementLevelMandatory
	case Disabled:
		return policyx.EnforcementLevelDisabled
	}
	return policyx.EnforcementLevelAdvisory
}

// NewPulumiPack returns the rules as a Pulumi policy pack for policyx.Main.
// Cross-resource rules run their per-resource part only: the Go policy SDK
// has no stack policies, so the rest runs in the deployer's gates.
func NewPulumiPack() (policyx.PolicyPack, error) {
	var policies []policyx.Policy
	for _, rule := range Rules {
		if rule.check == nil {
			continue
		}
		rule := rule
		report := func(twin bool) func(context.Context, policyx.ResourceValidationArgs) error {
			return func(_ context.Context, args policyx.ResourceValidationArgs) error {
				if !rule.applies(args.Resource.Type) {
					return nil
				}
				cfg := configFrom(args.Config)
				r := Resource{URN: args.Resource.URN, Type: args.Resource.Type,
					Properties: resource.ToResourcePropertyMap(args.Resource.Properties)}
				isExempt := exempt(cfg, r)[rule.ID]
				for _, f := range rule.check(cfg, r) {
					soft := isExempt || f.unknown
					if soft != twin {
						continue
					}
					msg := f.msg
					if isExempt {
						msg += fmt.Sprintf(" (exempt through %s)", baseline.ExemptTag)
					} else if f.unknown {
						msg += " (advisory until the value is known)"
					}
					args.Manager.ReportViolation(msg, args.Resource.URN)
				}
				return nil
			}
		}
		main := policyx.NewResourceValidationPolicy(rule.ID, policyx.ResourceValidationPolicyArgs{
			Description: rule.Rationale, EnforcementLevel: engineLevel(rule.Level), ConfigSchema: configSchema,
			ValidateResource: report(false),
		})
		twin := policyx.NewResourceValidationPolicy(rule.ID+AdvisorySuffix, policyx.ResourceValidationPolicyArgs{
			Description: rule.Rationale + " (exempt or not yet known)", EnforcementLevel: policyx.EnforcementLevelAdvisory,
			ConfigSchema: configSchema, ValidateResource: report(true),
		})
		policies = append(policies, main, twin)
	}
	return policyx.NewPolicyPack(PackName, PackVersion, policyx.EnforcementLevelAdvisory, policies)
}

// EngineConfig is the policy pack config file (`--policy-pack-config`) that
// gives the engine's pack the stack's settings: the database port, the
// retention floor, production, and the levels the stack overrides.
func EngineConfig(c Config) map[string]map[string]any {
	c = c.withDefaults()
	out := map[string]map[string]any{}
	for _, rule := range Rules {
		if rule.check == nil {
			continue
		}
		for _, name := range []string{rule.ID, rule.ID + AdvisorySuffix} {
			out[name] = map[string]any{"production": c.Production, "backupRetentionDays": c.BackupRetentionDays, "databasePort": c.DatabasePort}
		}
		if l, ok := c.Levels[rule.ID]; ok {
			out[rule.ID]["enforcementLevel"] = string(l) // the engine's names: mandatory, advisory, disabled
		}
	}
	return out
}
