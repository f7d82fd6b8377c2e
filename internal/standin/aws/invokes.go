package aws

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/internal/standin"
)

// The provider functions over security group rules and secrets.

func securityGroupRules(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	groups := map[string]bool{}
	filters, _ := args["filters"].([]any)
	for _, f := range filters {
		m, _ := f.(map[string]any)
		if standin.Str(m, "name") != "group-id" {
			return nil, fmt.Errorf("stand-in supports only the group-id filter, not %q", standin.Str(m, "name"))
		}
		for _, v := range standin.Strings(m, "values") {
			groups[v] = true
		}
	}
	ids := []any{}
	err := store.View(func(c *standin.Cloud) error {
		for _, typ := range []string{TypeIngressRule, TypeEgressRule} {
			for _, o := range c.OfType(typ) {
				if groups[standin.Str(o.Props, "securityGroupId")] {
					ids = append(ids, o.ID)
				}
			}
		}
		return nil
	})
	return resource.NewPropertyMapFromMap(map[string]any{"id": region, "ids": ids, "filters": filters}), err
}

// securityGroupRule describes one rule by its ID, as DescribeSecurityGroupRules
// does for the real data source.
// Upstream: terraform-provider-aws internal/service/ec2
// vpc_security_group_rule_data_source.go (dataSourceSecurityGroupRule.Read:
// findSecurityGroupRule, then the rule's attributes; exactly one match or an
// error).
func securityGroupRule(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	id := standin.Str(args, "securityGroupRuleId")
	if id == "" {
		return nil, fmt.Errorf("stand-in supports only securityGroupRuleId for getSecurityGroupRule")
	}
	var out map[string]any
	err := store.View(func(c *standin.Cloud) error {
		o, ok := c.Objects[id]
		if !ok || (o.Type != TypeIngressRule && o.Type != TypeEgressRule) {
			return fmt.Errorf("InvalidSecurityGroupRuleId.NotFound: The security group rule ID '%s' does not exist", id)
		}
		out = map[string]any{"id": id, "securityGroupRuleId": id, "isEgress": o.Type == TypeEgressRule,
			"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", region, account, id)}
		for _, k := range []string{"securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6",
			"prefixListId", "referencedSecurityGroupId", "description"} {
			if v, ok := o.Props[k]; ok {
				out[k] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}

func secretVersion(store standin.Store, args map[string]any) (resource.PropertyMap, error) {
	id := standin.Str(args, "secretId")
	var value, version string
	var ok bool
	err := store.View(func(c *standin.Cloud) error {
		value, ok = c.Secrets[id]
		version = secretVersionID(c, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("ResourceNotFoundException: Secrets Manager can't find the specified secret %s", id)
	}
	m := resource.NewPropertyMapFromMap(map[string]any{
		"arn": id, "id": id + "|AWSCURRENT", "secretId": id, "versionId": version, "versionStage": "AWSCURRENT",
		"versionStages": []any{"AWSCURRENT"}, "createdDate": "2026-01-01T00:00:00Z", "secretBinary": "",
	})
	m["secretString"] = resource.MakeSecret(resource.NewStringProperty(value))
	return m, nil
}
