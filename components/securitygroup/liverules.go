package securitygroup

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The live-rules protocol: a program reports every rule AWS holds on a
// group in one ephemeral log line, so a drift audit lists the rules made
// outside the program (and judges them) in the same engine pass.

// LiveRulesPrefix starts the ephemeral log line in which the program reports
// the live rule IDs of its security group, so a drift audit can list rules
// created outside the program in the same engine pass.
const LiveRulesPrefix = "deployer.live-rules "

// LiveRules is the payload after LiveRulesPrefix.
type LiveRules struct {
	GroupID string   `json:"groupId"`
	RuleIDs []string `json:"ruleIds"`
	// Rules describes each rule, so a rule made outside the program can be
	// reported in full and judged by the policies.
	Rules []LiveRule `json:"rules,omitempty"`
}

// LiveRule is one rule as AWS holds it.
type LiveRule struct {
	ID                        string  `json:"id"`
	Egress                    bool    `json:"egress"`
	IPProtocol                string  `json:"ipProtocol"`
	FromPort                  float64 `json:"fromPort"`
	ToPort                    float64 `json:"toPort"`
	CIDRIPv4                  string  `json:"cidrIpv4,omitempty"`
	CIDRIPv6                  string  `json:"cidrIpv6,omitempty"`
	PrefixListID              string  `json:"prefixListId,omitempty"`
	ReferencedSecurityGroupID string  `json:"referencedSecurityGroupId,omitempty"`
	Description               string  `json:"description,omitempty"`
}

// ParseLiveRules reads a log line holding LiveRulesPrefix and its payload;
// ok is false for any other line.
func ParseLiveRules(msg string) (lr LiveRules, ok bool) {
	i := strings.Index(msg, LiveRulesPrefix)
	if i < 0 {
		return lr, false
	}
	return lr, json.Unmarshal([]byte(strings.TrimSpace(msg[i+len(LiveRulesPrefix):])), &lr) == nil
}

// ReportLiveRules logs (ephemerally, after LiveRulesPrefix) every rule AWS
// holds for the group, by ID and in full, once the group's ID is known. A
// drift audit reads the line to find rules created outside the program. The look-up runs inside an
// apply of groupID, which the program waits for before it ends.
func ReportLiveRules(ctx *pulumi.Context, groupID pulumi.StringOutput) {
	groupID.ApplyT(func(id string) error { return reportLiveRules(ctx, id) })
}

func reportLiveRules(ctx *pulumi.Context, groupID string) error {
	rules, err := vpc.GetSecurityGroupRules(ctx, &vpc.GetSecurityGroupRulesArgs{
		Filters: []vpc.GetSecurityGroupRulesFilter{{Name: "group-id", Values: []string{groupID}}},
	})
	if err != nil {
		return fmt.Errorf("list the live rules of security group %s: %w", groupID, err)
	}
	ids := rules.Ids
	if ids == nil {
		ids = []string{}
	}
	live := LiveRules{GroupID: groupID, RuleIDs: ids}
	for _, id := range ids {
		r, err := vpc.GetSecurityGroupRule(ctx, &vpc.GetSecurityGroupRuleArgs{SecurityGroupRuleId: pulumi.StringRef(id)})
		if err != nil {
			return fmt.Errorf("describe rule %s of security group %s: %w", id, groupID, err)
		}
		live.Rules = append(live.Rules, LiveRule{ID: id, Egress: r.IsEgress, IPProtocol: r.IpProtocol, FromPort: float64(r.FromPort),
			ToPort: float64(r.ToPort), CIDRIPv4: r.CidrIpv4, CIDRIPv6: r.CidrIpv6, PrefixListID: r.PrefixListId,
			ReferencedSecurityGroupID: r.ReferencedSecurityGroupId, Description: r.Description})
	}
	b, err := json.Marshal(live)
	if err != nil {
		return err
	}
	return ctx.Log.Info(LiveRulesPrefix+string(b), &pulumi.LogArgs{Ephemeral: true})
}
