package provider

import (
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/components/tags"
)

// Tags stands for tags.Set.
type Tags struct {
	Environment string            `pulumi:"environment"`
	CostCenter  string            `pulumi:"costCenter"`
	Extra       map[string]string `pulumi:"extra,optional"`
}

// Annotate names the type and documents its fields.
func (t *Tags) Annotate(a infer.Annotator) { annotateObject(a, t, "tags.Set") }

func (t Tags) goSet() tags.Set {
	return tags.Set{Environment: t.Environment, CostCenter: t.CostCenter, Extra: t.Extra}
}

// RuleSpec stands for securitygroup.Rule.
type RuleSpec struct {
	Key             string             `pulumi:"key"`
	Description     string             `pulumi:"description"`
	Protocol        string             `pulumi:"protocol,optional"`
	FromPort        int                `pulumi:"fromPort,optional"`
	ToPort          int                `pulumi:"toPort,optional"`
	CIDRIPv4        string             `pulumi:"cidrIpv4,optional"`
	CIDRIPv6        string             `pulumi:"cidrIpv6,optional"`
	PrefixListID    pulumi.StringInput `pulumi:"prefixListId,optional"`
	SecurityGroupID pulumi.StringInput `pulumi:"securityGroupId,optional"`
	PreviousKeys    []string           `pulumi:"previousKeys,optional"`
}

// Annotate names the type and documents its fields.
func (r *RuleSpec) Annotate(a infer.Annotator) { annotateObject(a, r, "securitygroup.Rule") }

func (r RuleSpec) goRule() securitygroup.Rule {
	return securitygroup.Rule{
		Key: r.Key, Description: r.Description, Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort,
		CIDRIPv4: r.CIDRIPv4, CIDRIPv6: r.CIDRIPv6, PrefixListID: r.PrefixListID, SecurityGroupID: r.SecurityGroupID,
		PreviousKeys: r.PreviousKeys,
	}
}

func goRules(rs []RuleSpec) []securitygroup.Rule {
	var out []securitygroup.Rule
	for _, r := range rs {
		out = append(out, r.goRule())
	}
	return out
}

// SecurityGroupArgs stands for securitygroup.Args.
type SecurityGroupArgs struct {
	VpcID        pulumi.StringInput `pulumi:"vpcId"`
	Description  string             `pulumi:"description"`
	NamePrefix   string             `pulumi:"namePrefix,optional"`
	DatabasePort int                `pulumi:"databasePort,optional"`
	Ingress      []RuleSpec         `pulumi:"ingress,optional"`
	Egress       []RuleSpec         `pulumi:"egress,optional"`
	Tags         Tags               `pulumi:"tags"`
}

// Annotate documents the inputs.
func (s *SecurityGroupArgs) Annotate(a infer.Annotator) { describe(a, s, "securitygroup.Args") }

func (s SecurityGroupArgs) goArgs() securitygroup.Args {
	return securitygroup.Args{
		VpcID: s.VpcID, Description: s.Description, NamePrefix: s.NamePrefix, DatabasePort: s.DatabasePort,
		Ingress: goRules(s.Ingress), Egress: goRules(s.Egress), Tags: s.Tags.goSet(),
	}
}

// SecurityGroup is the security group component's outputs.
type SecurityGroup struct {
	pulumi.ResourceState
	SecurityGroupID pulumi.StringOutput    `pulumi:"securityGroupId" godoc:"ID"`
	IngressRuleIDs  pulumi.StringMapOutput `pulumi:"ingressRuleIds" godoc:"IngressRules"`
	EgressRuleIDs   pulumi.StringMapOutput `pulumi:"egressRuleIds" godoc:"EgressRules"`
}

// Annotate documents the outputs.
func (s *SecurityGroup) Annotate(a infer.Annotator) { describe(a, s, "securitygroup.SecurityGroup") }

// goComponent names the Go component.
func (*SecurityGroup) goComponent() (token, doc string) {
	return securitygroup.GroupType, "securitygroup"
}

func securityGroupComponent() component {
	return componentOf[SecurityGroupArgs, *SecurityGroup](constructWith(securitygroup.New, SecurityGroupArgs.goArgs, func(c *securitygroup.SecurityGroup) pulumi.Map {
		return pulumi.Map{
			"securityGroupId": c.ID.ToStringOutput(),
			"ingressRuleIds":  ruleIDs(c.IngressRules),
			"egressRuleIds":   ruleIDs(c.EgressRules),
		}
	}))
}

// ruleIDs maps each rule's key to its AWS rule ID.
func ruleIDs[R interface{ ID() pulumi.IDOutput }](rules map[string]R) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, r := range rules {
		out[k] = r.ID().ToStringOutput()
	}
	return out
}

// StandaloneRuleArgs stands for securitygroup.StandaloneArgs.
type StandaloneRuleArgs struct {
	SecurityGroupID pulumi.StringInput `pulumi:"securityGroupId"`
	Egress          bool               `pulumi:"egress,optional"`
	Rule            RuleSpec           `pulumi:"rule"`
	DatabasePort    int                `pulumi:"databasePort,optional"`
	Tags            Tags               `pulumi:"tags"`
}

// Annotate documents the inputs.
func (s *StandaloneRuleArgs) Annotate(a infer.Annotator) {
	describe(a, s, "securitygroup.StandaloneArgs")
}

func (s StandaloneRuleArgs) goArgs() securitygroup.StandaloneArgs {
	return securitygroup.StandaloneArgs{
		SecurityGroupID: s.SecurityGroupID, Egress: s.Egress, Rule: s.Rule.goRule(), DatabasePort: s.DatabasePort, Tags: s.Tags.goSet(),
	}
}

// StandaloneRule is the standalone rule component's outputs.
type StandaloneRule struct {
	pulumi.ResourceState
	RuleID pulumi.StringOutput `pulumi:"ruleId"`
}

// Annotate documents the outputs.
func (s *StandaloneRule) Annotate(a infer.Annotator) { describe(a, s, "securitygroup.StandaloneRule") }

// goComponent names the Go component.
func (*StandaloneRule) goComponent() (token, doc string) {
	return securitygroup.RuleType, "securitygroup.StandaloneRule"
}

func ruleComponent() component {
	return componentOf[StandaloneRuleArgs, *StandaloneRule](constructWith(securitygroup.NewStandaloneRule, StandaloneRuleArgs.goArgs, func(c *securitygroup.StandaloneRule) pulumi.Map {
		return pulumi.Map{"ruleId": c.RuleID.ToStringOutput()}
	}))
}
