package aws

import (
	"sort"

	"github.com/postgis-platform/deployer/internal/standin"
)

// readGroup fills a security group's ingress and egress outputs with every
// rule AWS holds for it, standalone rules included, as the provider does:
// the outputs list the group's live permissions, whoever made them.
// Upstream: terraform-provider-aws internal/service/ec2 vpc_security_group.go
// resourceSecurityGroupRead (flattenIPPermissions over the group's
// IpPermissions and IpPermissionsEgress; matchRules keeps remote rules that
// match no configured one).
func readGroup(c *standin.Cloud, props map[string]any) map[string]any {
	out := standin.Copy(props)
	id := standin.Str(props, "id")
	for _, dir := range []struct{ key, typ string }{{"ingress", TypeIngressRule}, {"egress", TypeEgressRule}} {
		list := []any{}
		for _, r := range c.OfType(dir.typ) {
			if standin.Str(r.Props, "securityGroupId") == id {
				list = append(list, permission(r.Props))
			}
		}
		sort.Slice(list, func(i, j int) bool {
			return standin.Str(list[i].(map[string]any), "description") < standin.Str(list[j].(map[string]any), "description")
		})
		out[dir.key] = list
	}
	return out
}

// permission is one rule in the group's inline-rule shape.
func permission(p map[string]any) map[string]any {
	m := map[string]any{"protocol": protocol(p), "fromPort": standin.Num(p, "fromPort"), "toPort": standin.Num(p, "toPort"),
		"description": standin.Str(p, "description"), "self": false,
		"cidrBlocks": []any{}, "ipv6CidrBlocks": []any{}, "securityGroups": []any{}, "prefixListIds": []any{}}
	for k, field := range map[string]string{"cidrIpv4": "cidrBlocks", "cidrIpv6": "ipv6CidrBlocks",
		"referencedSecurityGroupId": "securityGroups", "prefixListId": "prefixListIds"} {
		if v := standin.Str(p, k); v != "" {
			m[field] = []any{v}
		}
	}
	return m
}
