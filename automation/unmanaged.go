package automation

import (
	"fmt"
	"strings"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/components/securitygroup"
	"github.com/postgis-platform/deployer/policypack"
)

// UnmanagedRule is a rule on a managed security group that the state does
// not hold (created by hand), as AWS describes it.
type UnmanagedRule struct {
	GroupID  string `json:"groupId"`
	GroupURN string `json:"groupUrn"`
	RuleID   string `json:"ruleId"`
	// Direction is "ingress" or "egress"; empty when the program did not
	// describe the rule (then only its ID is known).
	Direction   string `json:"direction,omitempty"`
	Protocol    string `json:"protocol,omitempty"`
	FromPort    int    `json:"fromPort"`
	ToPort      int    `json:"toPort"`
	Peer        string `json:"peer,omitempty"` // a CIDR, a security group or a prefix list
	Description string `json:"description,omitempty"`
}

// unmanagedRule builds the report entry from the program's description.
func unmanagedRule(gid, urn string, r securitygroup.LiveRule) UnmanagedRule {
	u := UnmanagedRule{GroupID: gid, GroupURN: urn, RuleID: r.ID, Direction: "ingress", Protocol: r.IPProtocol,
		FromPort: int(r.FromPort), ToPort: int(r.ToPort), Description: r.Description}
	if r.Egress {
		u.Direction = "egress"
	}
	for _, p := range []string{r.CIDRIPv4, r.CIDRIPv6, r.ReferencedSecurityGroupID, r.PrefixListID} {
		if p != "" {
			u.Peer = p
			break
		}
	}
	return u
}

// String says what the rule lets through, e.g. "ingress tcp 5432 from
// 0.0.0.0/0 (sgr-0abc on sg-0def)".
func (u UnmanagedRule) String() string {
	if u.Direction == "" {
		return fmt.Sprintf("rule %s on %s", u.RuleID, u.GroupID)
	}
	ports := fmt.Sprintf("%d-%d", u.FromPort, u.ToPort)
	switch {
	case u.Protocol == "-1" || strings.EqualFold(u.Protocol, "all"):
		ports = "all ports"
	case u.FromPort == u.ToPort:
		ports = fmt.Sprint(u.FromPort)
	}
	dir := "from"
	if u.Direction == "egress" {
		dir = "to"
	}
	s := fmt.Sprintf("%s %s %s %s %s (%s on %s)", u.Direction, u.Protocol, ports, dir, u.Peer, u.RuleID, u.GroupID)
	if u.Description != "" {
		s += fmt.Sprintf(" %q", u.Description)
	}
	return s
}

// resource is the rule as the policies see a standalone rule resource.
func (u UnmanagedRule) resource() (policypack.Resource, bool) {
	if u.Direction == "" {
		return policypack.Resource{}, false
	}
	typ := baseline.TypeIngressRule
	if u.Direction == "egress" {
		typ = baseline.TypeEgressRule
	}
	props := map[string]any{"securityGroupId": u.GroupID, "ipProtocol": u.Protocol, "fromPort": float64(u.FromPort),
		"toPort": float64(u.ToPort), "description": u.Description}
	switch {
	case strings.HasPrefix(u.Peer, "sg-"):
		props["referencedSecurityGroupId"] = u.Peer
	case strings.HasPrefix(u.Peer, "pl-"):
		props["prefixListId"] = u.Peer
	case strings.Contains(u.Peer, ":"):
		props["cidrIpv6"] = u.Peer
	case u.Peer != "":
		props["cidrIpv4"] = u.Peer
	}
	return policypack.Resource{URN: u.GroupURN + "$unmanaged:" + u.RuleID, Type: typ, ID: u.RuleID,
		Properties: policypack.FromJSON(props)}, true
}

// judgeUnmanaged runs the policies over the unmanaged rules, as over managed
// ones; tags are not judged (a rule made by hand has none the program set).
func judgeUnmanaged(rules []UnmanagedRule, pol policypack.Config) []policypack.Violation {
	var res []policypack.Resource
	for _, u := range rules {
		if r, ok := u.resource(); ok {
			res = append(res, r)
		}
	}
	var out []policypack.Violation
	for _, v := range policypack.Evaluate(res, pol) {
		if v.Rule != baseline.SGRequiredTags {
			v.Message += " (unmanaged rule: remove it with `deployer reconcile --delete-unmanaged` or adopt it into the program)"
			out = append(out, v)
		}
	}
	return out
}

// unmanagedBlockError names each blocking finding on an unmanaged rule and
// the way out.
func unmanagedBlockError(stack string, rules []UnmanagedRule, blocking []policypack.Violation) error {
	var lines []string
	for _, v := range blocking {
		for _, u := range rules {
			if strings.HasSuffix(v.URN, "$unmanaged:"+u.RuleID) {
				lines = append(lines, fmt.Sprintf("%s breaks %s: %s\n  fix: deployer reconcile --stack %s --delete-unmanaged %s (or adopt it)",
					u, v.Rule, v.Message, stack, u.RuleID))
			}
		}
	}
	return fmt.Errorf("%d mandatory policy finding(s) on rules made outside the program; an update would leave them in place:\n%s",
		len(blocking), strings.Join(lines, "\n"))
}
