// Package securitygroup is a hardened security group for PostGIS: a group with
// no inline rules, every rule its own resource keyed by a stable name, no
// database port open to the internet, and explicit egress only.
package securitygroup

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/postgis-platform/deployer/components/tags"
)

// Type tokens of the components in this package.
const (
	GroupType = "postgis:securitygroup:SecurityGroup"
	RuleType  = "postgis:securitygroup:Rule"
)

// Args configures a SecurityGroup.
type Args struct {
	// VpcID is the VPC of the group. Required.
	VpcID pulumi.StringInput
	// Description of the group. Required; AWS cannot change it later, so
	// changing it replaces the group.
	Description string
	// NamePrefix of the group (default "<name>-"): AWS adds a unique suffix,
	// so a replacement is created before the old group is deleted.
	NamePrefix string
	// DatabasePort is the port never opened to the internet (default 5432).
	DatabasePort int
	// Ingress rules, each with one source. Nothing is allowed in by default.
	Ingress []Rule
	// Egress rules, each with one destination. Nothing is allowed out by
	// default (AWS's allow-all egress is not created).
	Egress []Rule
	// Tags: Environment and CostCenter are required; ManagedBy is set.
	Tags tags.Set
}

// SecurityGroup is the component: the group and one resource per rule.
type SecurityGroup struct {
	pulumi.ResourceState

	// Group is the underlying AWS security group.
	Group *ec2.SecurityGroup
	// ID is the group's ID (sg-…), to pass to RDS or to standalone rules.
	ID pulumi.IDOutput
	// IngressRules are the ingress rules by rule Key.
	IngressRules map[string]*vpc.SecurityGroupIngressRule
	// EgressRules are the egress rules by rule Key.
	EgressRules map[string]*vpc.SecurityGroupEgressRule
}

func (a *Args) validate() error {
	if a.VpcID == nil {
		return fmt.Errorf("VpcID is nil: pass the ID of the VPC that holds the database")
	}
	if strings.TrimSpace(a.Description) == "" {
		return fmt.Errorf("Description is empty: describe the group (it cannot be changed later without replacing it)")
	}
	if !descriptionPattern.MatchString(a.Description) {
		return fmt.Errorf("Description %q has characters AWS refuses: use letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* (at most 255)", a.Description)
	}
	if a.DatabasePort == 0 {
		a.DatabasePort = DefaultDatabasePort
	}
	if a.DatabasePort < 1 || a.DatabasePort > 65535 {
		return fmt.Errorf("DatabasePort %d is out of range 1-65535", a.DatabasePort)
	}
	if err := a.Tags.Validate("Tags"); err != nil {
		return err
	}
	if err := validateRules("Ingress", a.Ingress, true, a.DatabasePort); err != nil {
		return err
	}
	return validateRules("Egress", a.Egress, false, a.DatabasePort)
}

// New validates args and registers the group and its rules. Invalid input is
// refused before any resource is registered.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*SecurityGroup, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("security group %q: %w", name, err)
	}
	c := &SecurityGroup{
		IngressRules: map[string]*vpc.SecurityGroupIngressRule{},
		EgressRules:  map[string]*vpc.SecurityGroupEgressRule{},
	}
	if err := ctx.RegisterComponentResource(GroupType, name, c, opts...); err != nil {
		return nil, err
	}
	prefix := args.NamePrefix
	if prefix == "" {
		prefix = name + "-"
	}
	tagMap := args.Tags.Map(nil)
	group, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:               args.VpcID.ToStringOutput().ToStringPtrOutput(),
		Description:         pulumi.StringPtr(args.Description),
		NamePrefix:          pulumi.StringPtr(prefix),
		RevokeRulesOnDelete: pulumi.BoolPtr(true),
		Tags:                tagMap,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("security group %q: %w", name, err)
	}
	c.Group, c.ID = group, group.ID()

	for _, r := range args.Ingress {
		res, err := vpc.NewSecurityGroupIngressRule(ctx, name+"-in-"+r.Key, r.ingressArgs(group.ID(), tagMap), pulumi.Parent(c), r.aliases(name+"-in-"))
		if err != nil {
			return nil, fmt.Errorf("security group %q ingress %q: %w", name, r.Key, err)
		}
		c.IngressRules[r.Key] = res
	}
	for _, r := range args.Egress {
		res, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-out-"+r.Key, r.egressArgs(group.ID(), tagMap), pulumi.Parent(c), r.aliases(name+"-out-"))
		if err != nil {
			return nil, fmt.Errorf("security group %q egress %q: %w", name, r.Key, err)
		}
		c.EgressRules[r.Key] = res
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"id": group.ID()}); err != nil {
		return nil, err
	}
	return c, nil
}

// StandaloneArgs configures one rule attached to an existing group.
type StandaloneArgs struct {
	// SecurityGroupID is the group the rule attaches to. Required.
	SecurityGroupID pulumi.StringInput
	// Egress makes it an egress rule (default ingress).
	Egress bool
	// Rule is the rule, with exactly one source or destination.
	Rule Rule
	// DatabasePort guarded against world access (default 5432).
	DatabasePort int
	// Tags: Environment and CostCenter are required; ManagedBy is set.
	Tags tags.Set
}

// StandaloneRule is a single decoupled rule (the ETL ingress of the seed),
// usable on any group without the SecurityGroup component.
type StandaloneRule struct {
	pulumi.ResourceState

	// Ingress or Egress is set, by direction.
	Ingress *vpc.SecurityGroupIngressRule
	Egress  *vpc.SecurityGroupEgressRule
	// RuleID is the AWS rule ID (sgr-…).
	RuleID pulumi.IDOutput
}

// NewStandaloneRule validates the rule and registers it as its own resource.
func NewStandaloneRule(ctx *pulumi.Context, name string, args StandaloneArgs, opts ...pulumi.ResourceOption) (*StandaloneRule, error) {
	if args.SecurityGroupID == nil {
		return nil, fmt.Errorf("rule %q: SecurityGroupID is nil: pass the ID of the group to attach to", name)
	}
	if args.DatabasePort == 0 {
		args.DatabasePort = DefaultDatabasePort
	}
	if args.DatabasePort < 1 || args.DatabasePort > 65535 {
		return nil, fmt.Errorf("rule %q: DatabasePort %d is out of range 1-65535", name, args.DatabasePort)
	}
	if err := args.Tags.Validate("Tags"); err != nil {
		return nil, fmt.Errorf("rule %q: %w", name, err)
	}
	if err := args.Rule.validate("Rule", !args.Egress, args.DatabasePort); err != nil {
		return nil, fmt.Errorf("rule %q: %w", name, err)
	}
	c := &StandaloneRule{}
	if err := ctx.RegisterComponentResource(RuleType, name, c, opts...); err != nil {
		return nil, err
	}
	tagMap := args.Tags.Map(nil)
	var err error
	if args.Egress {
		c.Egress, err = vpc.NewSecurityGroupEgressRule(ctx, name, args.Rule.egressArgs(args.SecurityGroupID, tagMap), pulumi.Parent(c))
		if err == nil {
			c.RuleID = c.Egress.ID()
		}
	} else {
		c.Ingress, err = vpc.NewSecurityGroupIngressRule(ctx, name, args.Rule.ingressArgs(args.SecurityGroupID, tagMap), pulumi.Parent(c))
		if err == nil {
			c.RuleID = c.Ingress.ID()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", name, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"ruleId": c.RuleID}); err != nil {
		return nil, err
	}
	return c, nil
}
