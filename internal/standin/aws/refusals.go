package aws

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/postgis-platform/deployer/internal/standin"
)

// duplicateRule refuses a rule that another rule of the same direction on
// the same group already grants (same protocol, ports and peer), as
// AuthorizeSecurityGroupIngress/Egress do. It also hits a rule whose key is
// renamed without an alias: the new rule is created before the old one is
// deleted.
// Upstream: the EC2 API error InvalidPermission.Duplicate, returned through
// terraform-provider-aws internal/service/ec2
// vpc_security_group_ingress_rule.go (securityGroupRuleResource.Create).
func duplicateRule(c *standin.Cloud, typ string, props map[string]any) error {
	for _, o := range c.OfType(typ) {
		p := o.Props
		if standin.Str(p, "securityGroupId") != standin.Str(props, "securityGroupId") ||
			!strings.EqualFold(protocol(p), protocol(props)) ||
			standin.Num(p, "fromPort") != standin.Num(props, "fromPort") || standin.Num(p, "toPort") != standin.Num(props, "toPort") {
			continue
		}
		for _, f := range sourceFields {
			if v := standin.Str(props, f); v != "" && v == standin.Str(p, f) {
				return fmt.Errorf("InvalidPermission.Duplicate: the specified rule \"peer: %s, %s, from port: %v, to port: %v, ALLOW\" already exists (%s)",
					v, strings.ToUpper(protocol(props)), standin.Num(props, "fromPort"), standin.Num(props, "toPort"), o.ID)
			}
		}
	}
	return nil
}

func protocol(p map[string]any) string {
	switch v := strings.ToLower(standin.Str(p, "ipProtocol")); v {
	case "all":
		return "-1"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	default:
		return v
	}
}

// staticParameters are PostgreSQL parameters RDS applies only at a reboot
// (the postgres family's ApplyType "static"): ModifyDBParameterGroup refuses
// them with ApplyMethod immediate.
// Upstream: the RDS API error InvalidParameterCombination ("cannot use
// immediate apply method for static parameter"), returned through
// internal/service/rds/parameter_group.go resourceParameterGroupUpdate.
var staticParameters = map[string]bool{
	"shared_preload_libraries": true, "max_connections": true, "shared_buffers": true, "max_worker_processes": true,
	"max_wal_senders": true, "max_replication_slots": true, "wal_level": true, "rds.logical_replication": true,
	"max_locks_per_transaction": true, "max_prepared_transactions": true, "track_activity_query_size": true,
	"huge_pages": true, "autovacuum_max_workers": true, "wal_buffers": true,
}

func checkApplyMethods(props map[string]any) error {
	list, _ := props["parameters"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		name := strings.ToLower(standin.Str(m, "name"))
		method := standin.Str(m, "applyMethod")
		if method == "" {
			method = "immediate" // the pulumi-aws overlay default
		}
		if staticParameters[name] && method == "immediate" {
			return fmt.Errorf("InvalidParameterCombination: cannot use immediate apply method for static parameter %s", name)
		}
	}
	return nil
}

// descriptionChars is what EC2 accepts in a group or rule description.
var descriptionChars = regexp.MustCompile(`^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*$`)

// checkRuleDescription refuses a rule description outside EC2's character
// set or over 255 characters, as AuthorizeSecurityGroupIngress/Egress and
// ModifySecurityGroupRules do.
// Upstream: the EC2 API error InvalidParameterValue ("Invalid rule
// description"), returned through vpc_security_group_ingress_rule.go
// (securityGroupRuleResource.Create and Update).
func checkRuleDescription(props map[string]any) error {
	d := standin.Str(props, "description")
	if len(d) > 255 || !descriptionChars.MatchString(d) {
		return fmt.Errorf("InvalidParameterValue: Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*")
	}
	return nil
}

// checkGroupDescription refuses a group description outside EC2's
// character set, as CreateSecurityGroup does.
// Upstream: the EC2 API error InvalidParameterValue for GroupDescription,
// returned through vpc_security_group.go resourceSecurityGroupCreate.
func checkGroupDescription(props map[string]any) error {
	d := standin.Str(props, "description")
	if len(d) > 255 || !descriptionChars.MatchString(d) {
		return fmt.Errorf("InvalidParameterValue: Value (%s) for parameter GroupDescription is invalid. Character sets beyond ASCII are not supported", d)
	}
	return nil
}
