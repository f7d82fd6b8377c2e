package policypack

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/baseline"
)

// peerRule is one ingress or egress permission in any of the shapes the
// engine sees: inline on a group, an ec2 SecurityGroupRule, or a vpc rule.
type peerRule struct {
	where             string
	protocol          string
	from, to          float64
	cidrs             []string
	description       string
	unknownPeer       bool
	unknownPortsOrPro bool
}

func inlineRules(r Resource, dir string) []peerRule {
	var out []peerRule
	for i, e := range get(r.Properties, dir).list() {
		if e.unknown {
			out = append(out, peerRule{where: fmt.Sprintf("%s[%d]", dir, i), unknownPeer: true})
			continue
		}
		m := e.v.ObjectValue()
		pr := peerRule{
			where:       fmt.Sprintf("%s[%d]", dir, i),
			protocol:    get(m, "protocol").str(),
			from:        get(m, "fromPort").num(),
			to:          get(m, "toPort").num(),
			description: get(m, "description").str(),
		}
		for _, k := range []string{"cidrBlocks", "ipv6CidrBlocks"} {
			v := get(m, k)
			pr.unknownPeer = pr.unknownPeer || v.anyUnknown()
			pr.cidrs = append(pr.cidrs, v.strings()...)
		}
		out = append(out, pr)
	}
	return out
}

// standaloneRule reads a vpc or ec2 rule resource and its direction.
func standaloneRule(r Resource) (peerRule, bool) {
	p := r.Properties
	switch r.Type {
	case baseline.TypeIngressRule, baseline.TypeEgressRule:
		pr := peerRule{where: "rule", protocol: get(p, "ipProtocol").str(), from: get(p, "fromPort").num(), to: get(p, "toPort").num(), description: get(p, "description").str()}
		for _, k := range []string{"cidrIpv4", "cidrIpv6"} {
			v := get(p, k)
			pr.unknownPeer = pr.unknownPeer || v.unknown
			if s := v.str(); s != "" {
				pr.cidrs = append(pr.cidrs, s)
			}
		}
		pr.unknownPortsOrPro = get(p, "ipProtocol").unknown || get(p, "fromPort").unknown || get(p, "toPort").unknown
		return pr, r.Type == baseline.TypeIngressRule
	case baseline.TypeSGRule:
		pr := peerRule{where: "rule", protocol: get(p, "protocol").str(), from: get(p, "fromPort").num(), to: get(p, "toPort").num(), description: get(p, "description").str()}
		for _, k := range []string{"cidrBlocks", "ipv6CidrBlocks"} {
			v := get(p, k)
			pr.unknownPeer = pr.unknownPeer || v.anyUnknown()
			pr.cidrs = append(pr.cidrs, v.strings()...)
		}
		return pr, get(p, "type").str() == "ingress"
	}
	return peerRule{}, false
}

// allRules returns the resource's rules split by direction.
func allRules(r Resource) (ingress, egress []peerRule) {
	if r.Type == baseline.TypeSecurityGroup {
		return inlineRules(r, "ingress"), inlineRules(r, "egress")
	}
	pr, in := standaloneRule(r)
	if pr.where == "" {
		return nil, nil
	}
	if in {
		return []peerRule{pr}, nil
	}
	return nil, []peerRule{pr}
}

func checkPublicDBIngress(cfg Config, r Resource) []finding {
	ingress, _ := allRules(r)
	var out []finding
	for _, pr := range ingress {
		if pr.unknownPeer || pr.unknownPortsOrPro {
			out = append(out, unknownf("%s: source or ports unknown until apply; cannot rule out database port %d open to the internet", pr.where, cfg.DatabasePort))
			continue
		}
		if !coversPort(pr.protocol, pr.from, pr.to, cfg.DatabasePort) {
			continue
		}
		for _, c := range pr.cidrs {
			if baseline.OpensToInternet(c) || baseline.Public(c) {
				out = append(out, found("%s: %s can reach the database port %d (protocol %s, ports %v-%v); allow the clients' security group, subnet or a prefix list instead",
					pr.where, c, cfg.DatabasePort, pr.protocol, pr.from, pr.to))
			}
		}
	}
	return out
}

// checkPublicIngress finds ingress from the internet that does not reach the
// database port (that is sg-no-public-db-ingress's finding): a database
// group has no other service to offer the world.
func checkPublicIngress(cfg Config, r Resource) []finding {
	ingress, _ := allRules(r)
	var out []finding
	for _, pr := range ingress {
		if pr.unknownPeer || pr.unknownPortsOrPro || coversPort(pr.protocol, pr.from, pr.to, cfg.DatabasePort) {
			continue
		}
		for _, c := range pr.cidrs {
			if baseline.OpensToInternet(c) || baseline.Public(c) {
				out = append(out, found("%s: %s can reach the database group (protocol %s, ports %v-%v); a database group admits only its clients",
					pr.where, c, pr.protocol, pr.from, pr.to))
			}
		}
	}
	return out
}

func checkDescriptions(_ Config, r Resource) []finding {
	var out []finding
	if r.Type == baseline.TypeSecurityGroup {
		d := get(r.Properties, "description")
		if !d.unknown && (strings.TrimSpace(d.str()) == "" || d.str() == "Managed by Pulumi") {
			out = append(out, found("the group has no description of its own (%q)", d.str()))
		}
	}
	in, eg := allRules(r)
	for _, pr := range append(in, eg...) {
		if !pr.unknownPeer && strings.TrimSpace(pr.description) == "" {
			out = append(out, found("%s has no description", pr.where))
		}
	}
	return out
}

func checkUnrestrictedEgress(_ Config, r Resource) []finding {
	_, egress := allRules(r)
	var out []finding
	for _, pr := range egress {
		if pr.unknownPeer {
			continue
		}
		for _, c := range pr.cidrs {
			if baseline.OpensToInternet(c) && allTraffic(pr.protocol) {
				out = append(out, found("%s: all traffic to %s; name the port and destination (e.g. tcp 443 to 10.0.0.0/8)", pr.where, c))
			}
		}
	}
	return out
}

// checkWorldEgress finds egress to the internet on any protocol and port
// (Trivy's AVD-AWS-0104 rates it critical). All traffic to 0.0.0.0/0 or ::/0
// is left to sg-no-unrestricted-egress, which blocks it, unless that rule is
// turned off.
func checkWorldEgress(cfg Config, r Resource) []finding {
	_, egress := allRules(r)
	var out []finding
	for _, pr := range egress {
		if pr.unknownPeer {
			out = append(out, unknownf("%s: destination unknown until apply; cannot rule out egress to the internet", pr.where))
			continue
		}
		for _, c := range pr.cidrs {
			if !baseline.OpensToInternet(c) {
				continue
			}
			if baseline.OpensToInternet(c) && allTraffic(pr.protocol) && cfg.Levels[baseline.SGNoUnrestrictedEgress] != Disabled {
				continue // reported by sg-no-unrestricted-egress
			}
			out = append(out, found("%s: egress to %s (protocol %s, ports %v-%v) reaches the internet; send it to a VPC endpoint, a proxy or a prefix list instead",
				pr.where, c, pr.protocol, pr.from, pr.to))
		}
	}
	return out
}

func checkRequiredTags(_ Config, r Resource) []finding {
	tags := get(r.Properties, "tags")
	if tags.unknown {
		return []finding{unknownf("tags unknown until apply")}
	}
	var missing []string
	for _, k := range baseline.RequiredTags {
		if v := get(r.Properties, "tags", k); !v.unknown && strings.TrimSpace(v.str()) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []finding{found("missing tags %s", strings.Join(missing, ", "))}
}

// crossMixedInline finds groups that have inline rules while standalone rules
// also target them: each revokes the other's rules on every apply.
func crossMixedInline(_ Config, all []Resource) []stackFinding {
	var out []stackFinding
	for _, g := range all {
		if g.Type != baseline.TypeSecurityGroup {
			continue
		}
		in, eg := inlineRules(g, "ingress"), inlineRules(g, "egress")
		if len(in)+len(eg) == 0 {
			continue
		}
		for _, r := range all {
			if r.Type != baseline.TypeIngressRule && r.Type != baseline.TypeEgressRule && r.Type != baseline.TypeSGRule {
				continue
			}
			target := get(r.Properties, "securityGroupId")
			switch {
			case target.unknown || g.ID == "":
				out = append(out, stackFinding{res: g, finding: unknownf("the group has %d inline rules and %s may target it (IDs unknown until apply)", len(in)+len(eg), r.URN)})
			case target.str() == g.ID:
				out = append(out, stackFinding{res: g, finding: found("the group has %d inline rules and the standalone rule %s also targets it; move every rule to standalone resources", len(in)+len(eg), r.URN)})
			}
		}
	}
	return out
}

func checkRDSInstance(id string) func(Config, Resource) []finding {
	return func(cfg Config, r Resource) []finding {
		p := r.Properties
		want := func(key string, msg string) []finding {
			v := get(p, key)
			if v.unknown {
				return []finding{unknownf("%s unknown until apply", key)}
			}
			if !v.isTrue() {
				return []finding{found("%s", msg)}
			}
			return nil
		}
		switch id {
		case baseline.RDSStorageEncrypted:
			return want("storageEncrypted", "storage is not encrypted (storageEncrypted must be true; it cannot be changed without replacement)")
		case baseline.RDSNotPublic:
			if v := get(p, "publiclyAccessible"); v.isTrue() {
				return []finding{found("publiclyAccessible is true: the instance gets a public address")}
			} else if v.unknown {
				return []finding{unknownf("publiclyAccessible unknown until apply")}
			}
		case baseline.RDSDeletionProtection:
			return want("deletionProtection", "deletionProtection is off")
		case baseline.RDSIAMAuth:
			return want("iamDatabaseAuthenticationEnabled", "IAM database authentication is off")
		case baseline.RDSManagedMasterPassword:
			var out []finding
			if get(p, "password").present {
				out = append(out, found("a master password is set in the program: let AWS manage it (manageMasterUserPassword)"))
			}
			return append(out, want("manageMasterUserPassword", "manageMasterUserPassword is off: the master password is not in Secrets Manager")...)
		case baseline.RDSMultiAZProduction:
			if cfg.Production {
				return want("multiAz", "a production instance is single-AZ")
			}
		case baseline.RDSBackupRetention:
			return rdsBackupRetention(cfg, p)
		case baseline.RDSModernCA:
			return rdsModernCA(p)
		case baseline.RDSPerformanceInsightKMS:
			out := want("performanceInsightsEnabled", "Performance Insights is off")
			if k := get(p, "performanceInsightsKmsKeyId"); k.unknown {
				out = append(out, unknownf("performanceInsightsKmsKeyId unknown until apply"))
			} else if k.str() == "" {
				out = append(out, found("Performance Insights has no customer KMS key"))
			}
			return out
		case baseline.RDSLogExports:
			return rdsLogExports(p)
		case baseline.RDSForceSSL:
			v := get(p, "parameterGroupName")
			if v.unknown {
				return nil // related to its group by the cross-resource check
			}
			if v.str() == "" || strings.HasPrefix(v.str(), "default.") {
				return []finding{found("the instance uses the default parameter group %q, which does not force SSL", v.str())}
			}
		}
		return nil
	}
}

// rdsBackupRetention: the retention is at least the configured floor.
func rdsBackupRetention(cfg Config, p resource.PropertyMap) []finding {
	v := get(p, "backupRetentionPeriod")
	if v.unknown {
		return []finding{unknownf("backupRetentionPeriod unknown until apply")}
	}
	if int(v.num()) < cfg.BackupRetentionDays {
		return []finding{found("backup retention is %d days, the floor is %d", int(v.num()), cfg.BackupRetentionDays)}
	}
	return nil
}

// rdsModernCA: the instance's CA is a current one.
func rdsModernCA(p resource.PropertyMap) []finding {
	v := get(p, "caCertIdentifier")
	if v.unknown {
		return []finding{unknownf("caCertIdentifier unknown until apply")}
	}
	switch v.str() {
	case "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1":
		return nil
	}
	return []finding{found("CA %q is not a current RDS CA (use rds-ca-rsa2048-g1, rds-ca-rsa4096-g1 or rds-ca-ecc384-g1)", v.str())}
}

// rdsLogExports: the postgresql log goes to CloudWatch.
func rdsLogExports(p resource.PropertyMap) []finding {
	v := get(p, "enabledCloudwatchLogsExports")
	if v.anyUnknown() {
		return []finding{unknownf("log exports unknown until apply")}
	}
	for _, s := range v.strings() {
		if s == "postgresql" {
			return nil
		}
	}
	return []finding{found("the postgresql log is not exported to CloudWatch")}
}

func parameters(r Resource) (map[string]string, bool) {
	v := get(r.Properties, "parameters")
	if v.anyUnknown() {
		return nil, false
	}
	out := map[string]string{}
	for _, e := range v.list() {
		if e.v.IsObject() {
			m := e.v.ObjectValue()
			out[get(m, "name").str()] = get(m, "value").str()
		}
	}
	return out, true
}

func checkParameterGroup(id string) func(Config, Resource) []finding {
	return func(_ Config, r Resource) []finding {
		params, known := parameters(r)
		if !known {
			return []finding{unknownf("parameters unknown until apply")}
		}
		switch id {
		case baseline.RDSForceSSL:
			if params["rds.force_ssl"] != "1" {
				return []finding{found("rds.force_ssl is %q, want \"1\"", params["rds.force_ssl"])}
			}
		case baseline.RDSAuditLog:
			if !listHas(params["shared_preload_libraries"], "pgaudit") {
				return []finding{found("shared_preload_libraries is %q: pgaudit is not loaded, so no GRANT or ALTER ROLE is on record", params["shared_preload_libraries"])}
			}
			classes := params["pgaudit.log"]
			if !listHas(classes, "all") && (!listHas(classes, "role") || !listHas(classes, "ddl")) {
				return []finding{found("pgaudit.log is %q, want it to cover role and ddl", classes)}
			}
		case baseline.RDSTLSFloor:
			switch params["ssl_min_protocol_version"] {
			case "TLSv1.2", "TLSv1.3":
			default:
				return []finding{found("ssl_min_protocol_version is %q, want TLSv1.2 or TLSv1.3", params["ssl_min_protocol_version"])}
			}
		}
		return nil
	}
}

// crossForceSSL relates each instance to its parameter group.
func crossForceSSL(_ Config, all []Resource) []stackFinding {
	groups := map[string]Resource{}
	for _, r := range all {
		if r.Type == baseline.TypeDBParameterGroup {
			if n := get(r.Properties, "name").str(); n != "" {
				groups[n] = r
			}
			if r.ID != "" {
				groups[r.ID] = r
			}
		}
	}
	var out []stackFinding
	for _, r := range all {
		if r.Type != baseline.TypeDBInstance {
			continue
		}
		name := get(r.Properties, "parameterGroupName")
		if name.unknown {
			continue // a group created in this update: its own check covers it
		}
		g, ok := groups[name.str()]
		if !ok {
			if name.str() != "" && !strings.HasPrefix(name.str(), "default.") {
				out = append(out, stackFinding{res: r, finding: unknownf("parameter group %q is not managed here; cannot check rds.force_ssl", name.str())})
			}
			continue
		}
		if params, known := parameters(g); known && params["rds.force_ssl"] != "1" {
			out = append(out, stackFinding{res: r, finding: found("attached parameter group %q does not set rds.force_ssl=1", name.str())})
		}
	}
	return out
}

// listHas reports whether a comma-separated parameter value lists item
// (case-insensitive, as PostgreSQL reads these lists).
func listHas(list, item string) bool {
	for _, v := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(v), item) {
			return true
		}
	}
	return false
}
