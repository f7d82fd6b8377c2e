package securitygroup

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

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
	// Error says why the rules could not be listed: a reader fails rather
	// than take the group for one without rules made by hand.
	Error string `json:"error,omitempty"`
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
	groupID.ApplyT(func(id string) error {
		live, err := liveRules(ctx, id)
		if err != nil {
			live = LiveRules{GroupID: id, RuleIDs: []string{}, Error: err.Error()}
		}
		b, merr := json.Marshal(live)
		if merr != nil {
			return merr
		}
		// The line carries the failure: an apply's error alone reaches no one.
		return errors.Join(ctx.Log.Info(LiveRulesPrefix+string(b), &pulumi.LogArgs{Ephemeral: true}), err)
	})
}

// liveRules lists the group's rules, then describes them all at once.
func liveRules(ctx *pulumi.Context, groupID string) (LiveRules, error) {
	rules, err := vpc.GetSecurityGroupRules(ctx, &vpc.GetSecurityGroupRulesArgs{
		Filters: []vpc.GetSecurityGroupRulesFilter{{Name: "group-id", Values: []string{groupID}}},
	})
	if err != nil {
		return LiveRules{}, fmt.Errorf("list the live rules of security group %s: %w", groupID, err)
	}
	ids := rules.Ids
	if ids == nil {
		ids = []string{}
	}
	live := LiveRules{GroupID: groupID, RuleIDs: ids, Rules: make([]LiveRule, len(ids))}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := vpc.GetSecurityGroupRule(ctx, &vpc.GetSecurityGroupRuleArgs{SecurityGroupRuleId: pulumi.StringRef(id)})
			if err != nil {
				errs[i] = fmt.Errorf("describe rule %s of security group %s: %w", id, groupID, err)
				return
			}
			live.Rules[i] = LiveRule{ID: id, Egress: r.IsEgress, IPProtocol: r.IpProtocol, FromPort: float64(r.FromPort),
				ToPort: float64(r.ToPort), CIDRIPv4: r.CidrIpv4, CIDRIPv6: r.CidrIpv6, PrefixListID: r.PrefixListId,
				ReferencedSecurityGroupID: r.ReferencedSecurityGroupId, Description: r.Description}
		}()
	}
	wg.Wait()
	if len(ids) == 0 {
		live.Rules = nil
	}
	return live, errors.Join(errs...)
}
