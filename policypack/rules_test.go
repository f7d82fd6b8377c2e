package policypack_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/postgis-platform/deployer/baseline"
	"github.com/postgis-platform/deployer/policypack"
	"github.com/postgis-platform/deployer/sqlfuncs"
)

var goodTags = map[string]any{"Environment": "prod", "ManagedBy": "deployer", "CostCenter": "gis-42"}

func res(typ string, props map[string]any) policypack.Resource {
	return policypack.Resource{URN: "urn:pulumi:prod::postgis-platform::" + typ + "::r", Type: typ, Properties: resource.NewPropertyMapFromMap(props)}
}

func with(base map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

var (
	ingress = map[string]any{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv4": "10.20.30.0/24",
		"description": "ETL subnet", "securityGroupId": "sg-1", "tags": goodTags}
	egress = map[string]any{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "10.0.0.0/8",
		"description": "patching", "securityGroupId": "sg-1", "tags": goodTags}
	group    = map[string]any{"description": "PostGIS database", "vpcId": "vpc-1", "tags": goodTags}
	instance = map[string]any{
		"engine": "postgres", "storageEncrypted": true, "publiclyAccessible": false, "deletionProtection": true,
		"backupRetentionPeriod": 7, "multiAz": true, "iamDatabaseAuthenticationEnabled": true,
		"caCertIdentifier": "rds-ca-rsa2048-g1", "performanceInsightsEnabled": true, "performanceInsightsKmsKeyId": "arn:aws:kms:k",
		"enabledCloudwatchLogsExports": []any{"postgresql", "upgrade"}, "manageMasterUserPassword": true,
		"parameterGroupName": "db-postgres16-abc", "tags": goodTags,
	}
	params = map[string]any{"name": "db-postgres16-abc", "family": "postgres16", "parameters": []any{
		map[string]any{"name": "rds.force_ssl", "value": "1"},
		map[string]any{"name": "ssl_min_protocol_version", "value": "TLSv1.2"},
		map[string]any{"name": "shared_preload_libraries", "value": "pgaudit", "applyMethod": "pending-reboot"},
		map[string]any{"name": "pgaudit.log", "value": "role,ddl"},
	}}
	role = map[string]any{"name": "etl_writer", "login": true, "superuser": false, "createDatabase": false,
		"createRole": false, "replication": false, "bypassRowLevelSecurity": false}
	grant = map[string]any{"role": "public", "database": "utility", "schema": "utility", "objectType": "function", "privileges": []any{}}
)

func definerBody() string {
	fns, _ := sqlfuncs.Definitions(sqlfuncs.Options{})
	return fns[1].Body
}

func mapping(secret bool) policypack.Resource {
	opts := resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"user": "postgis_admin", "password": "pw"}))
	if secret {
		opts = resource.MakeSecret(opts)
	}
	return policypack.Resource{URN: "urn:m", Type: baseline.TypePGUserMapping, Properties: resource.PropertyMap{
		"serverName": resource.NewStringProperty("utility_loopback"), "options": opts,
	}}
}

type fixture struct {
	good, bad policypack.Resource
	want      string // fragment of the bad resource's message
}

// One good and one bad fixture per rule: the table must cover every rule.
func fixtures() map[string][]fixture {
	sg := func(p map[string]any) policypack.Resource { return res(baseline.TypeIngressRule, p) }
	eg := func(p map[string]any) policypack.Resource { return res(baseline.TypeEgressRule, p) }
	db := func(p map[string]any) policypack.Resource { return res(baseline.TypeDBInstance, p) }
	pg := func(p map[string]any) policypack.Resource { return res(baseline.TypeDBParameterGroup, p) }
	fx := map[string][]fixture{
		baseline.SGNoPublicDBIngress: {
			{sg(ingress), sg(with(ingress, "cidrIpv4", "0.0.0.0/0")), "0.0.0.0/0 can reach the database port 5432"},
			{sg(ingress), sg(with(ingress, "cidrIpv4", nil, "cidrIpv6", "::/0")), "::/0"},
			{sg(with(ingress, "cidrIpv4", "0.0.0.0/0", "fromPort", 443, "toPort", 443)), sg(with(ingress, "cidrIpv4", "0.0.0.0/0", "fromPort", 5000, "toPort", 6000)), "ports 5000-6000"},
			{sg(ingress), sg(with(ingress, "cidrIpv4", "0.0.0.0/0", "ipProtocol", "-1", "fromPort", nil, "toPort", nil)), "protocol -1"},
			{sg(ingress), sg(with(ingress, "cidrIpv4", "0.0.0.0/1")), "0.0.0.0/1"},
			{res(baseline.TypeSecurityGroup, group), res(baseline.TypeSecurityGroup, with(group, "ingress", []any{map[string]any{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": []any{"10.0.0.0/8", "0.0.0.0/0"}, "description": "x"}})), "ingress[0]: 0.0.0.0/0"},
			{res(baseline.TypeSGRule, map[string]any{"type": "ingress", "protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": []any{"10.1.0.0/16"}, "description": "x"}),
				res(baseline.TypeSGRule, map[string]any{"type": "ingress", "protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": []any{"0.0.0.0/0"}, "description": "x"}), "0.0.0.0/0"},
		},
		baseline.SGNoPublicIngress: {
			{sg(with(ingress, "cidrIpv4", "10.0.0.0/8", "fromPort", 22, "toPort", 22)), sg(with(ingress, "cidrIpv4", "0.0.0.0/0", "fromPort", 22, "toPort", 22)), "0.0.0.0/0 can reach the database group (protocol tcp, ports 22-22)"},
			{sg(with(ingress, "cidrIpv4", "0.0.0.0/0")), sg(with(ingress, "cidrIpv4", nil, "cidrIpv6", "::/0", "fromPort", 443, "toPort", 443)), "::/0 can reach the database group"},
			{sg(with(ingress, "cidrIpv4", "192.168.0.0/16", "fromPort", 8080, "toPort", 8080)), sg(with(ingress, "cidrIpv4", "8.8.8.0/24", "fromPort", 8080, "toPort", 8080)), "8.8.8.0/24"},
		},
		baseline.SGDescriptions: {
			{sg(ingress), sg(with(ingress, "description", "")), "rule has no description"},
			{res(baseline.TypeSecurityGroup, group), res(baseline.TypeSecurityGroup, with(group, "description", "Managed by Pulumi")), "no description of its own"},
		},
		baseline.SGNoUnrestrictedEgress: {
			{eg(egress), eg(with(egress, "ipProtocol", "-1", "cidrIpv4", "0.0.0.0/0", "fromPort", nil, "toPort", nil)), "all traffic to 0.0.0.0/0"},
			// One port to the world is sg-no-world-egress's (advisory), not this rule's.
			{eg(with(egress, "cidrIpv4", "0.0.0.0/0")), eg(with(egress, "ipProtocol", "-1", "cidrIpv4", nil, "cidrIpv6", "::/0", "fromPort", nil, "toPort", nil)), "all traffic to ::/0"},
		},
		baseline.SGNoWorldEgress: {
			{eg(egress), eg(with(egress, "cidrIpv4", "0.0.0.0/0")), "egress to 0.0.0.0/0 (protocol tcp, ports 443-443) reaches the internet"},
			{eg(egress), eg(with(egress, "cidrIpv4", nil, "cidrIpv6", "::/0")), "egress to ::/0"},
			{eg(egress), eg(with(egress, "cidrIpv4", "0.0.0.0/1")), "egress to 0.0.0.0/1"},
			{res(baseline.TypeSecurityGroup, with(group, "egress", []any{map[string]any{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": []any{"10.0.0.0/8"}, "description": "x"}})),
				res(baseline.TypeSecurityGroup, with(group, "egress", []any{map[string]any{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": []any{"10.0.0.0/8", "0.0.0.0/0"}, "description": "x"}})), "egress[0]: egress to 0.0.0.0/0"},
			{res(baseline.TypeSGRule, map[string]any{"type": "egress", "protocol": "udp", "fromPort": 53, "toPort": 53, "cidrBlocks": []any{"10.0.0.2/32"}, "description": "x"}),
				res(baseline.TypeSGRule, map[string]any{"type": "egress", "protocol": "udp", "fromPort": 53, "toPort": 53, "cidrBlocks": []any{"0.0.0.0/0"}, "description": "x"}), "protocol udp, ports 53-53"},
		},
		baseline.SGRequiredTags: {
			{sg(ingress), sg(with(ingress, "tags", map[string]any{"Environment": "prod"})), "missing tags ManagedBy, CostCenter"},
		},
		baseline.RDSStorageEncrypted:      {{db(instance), db(with(instance, "storageEncrypted", false)), "not encrypted"}},
		baseline.RDSNotPublic:             {{db(instance), db(with(instance, "publiclyAccessible", true)), "publiclyAccessible is true"}},
		baseline.RDSDeletionProtection:    {{db(instance), db(with(instance, "deletionProtection", nil)), "deletionProtection is off"}},
		baseline.RDSBackupRetention:       {{db(instance), db(with(instance, "backupRetentionPeriod", 1)), "1 days, the floor is 7"}},
		baseline.RDSMultiAZProduction:     {{db(instance), db(with(instance, "multiAz", false)), "single-AZ"}},
		baseline.RDSIAMAuth:               {{db(instance), db(with(instance, "iamDatabaseAuthenticationEnabled", false)), "IAM"}},
		baseline.RDSModernCA:              {{db(instance), db(with(instance, "caCertIdentifier", "rds-ca-2019")), "rds-ca-2019"}},
		baseline.RDSPerformanceInsightKMS: {{db(instance), db(with(instance, "performanceInsightsKmsKeyId", nil)), "no customer KMS key"}},
		baseline.RDSLogExports:            {{db(instance), db(with(instance, "enabledCloudwatchLogsExports", []any{"upgrade"})), "postgresql log"}},
		baseline.RDSManagedMasterPassword: {{db(instance), db(with(instance, "manageMasterUserPassword", nil, "password", "hunter2")), "master password is set"}},
		baseline.RDSForceSSL: {
			{pg(params), pg(with(params, "parameters", []any{map[string]any{"name": "rds.force_ssl", "value": "0"}})), `rds.force_ssl is "0"`},
			{db(instance), db(with(instance, "parameterGroupName", "default.postgres16")), "default parameter group"},
		},
		baseline.RDSAuditLog: {
			{pg(params), pg(with(params, "parameters", []any{map[string]any{"name": "pgaudit.log", "value": "role,ddl"}})), "pgaudit is not loaded"},
			{pg(params), pg(with(params, "parameters", []any{map[string]any{"name": "shared_preload_libraries", "value": "pg_stat_statements, pgaudit"},
				map[string]any{"name": "pgaudit.log", "value": "ddl"}})), "want it to cover role and ddl"},
		},
		baseline.RDSTLSFloor: {{pg(params), pg(with(params, "parameters", []any{map[string]any{"name": "ssl_min_protocol_version", "value": "TLSv1.1"}})), "TLSv1.1"}},
		baseline.PGRoleLeastPrivilege: {
			{res(baseline.TypePGRole, role), res(baseline.TypePGRole, with(role, "createDatabase", true)), "CREATEDB"},
			{res(baseline.TypePGRole, role), res(baseline.TypePGRole, with(role, "superuser", true)), "SUPERUSER"},
		},
		baseline.PGUtilityIntact: {{
			res(baseline.TypePGFunction, map[string]any{"name": "create_role", "securityDefiner": true, "body": definerBody()}),
			res(baseline.TypePGFunction, map[string]any{"name": "utility: no functions besides the utility functions", "auditProblem": "also holds utility.rt_exec(text)"}), "also holds utility.rt_exec(text)",
		}},
		baseline.PGRoleNoMembership: {
			{res(baseline.TypePGRole, role), res(baseline.TypePGRole, with(role, "roles", []any{"postgis_admin"})), "member of postgis_admin"},
			{res(baseline.TypePGRole, with(role, "roles", []any{})), res(baseline.TypePGRole, with(role, "roles", []any{"utility_app", "x"})), "member of utility_app, x"},
		},
		baseline.PGNoOpenDatabase: {{
			res(baseline.TypePGDatabase, map[string]any{"name": "gis", "owner": "postgis_admin"}),
			res(baseline.TypePGDatabase, map[string]any{"name": "t1", "owner": "t1_owner", "publicPrivileges": []any{"CONNECT", "TEMPORARY"}}), "PUBLIC has CONNECT, TEMPORARY on database \"t1\"",
		}},
		baseline.PGDefinerSearchPath: {{
			res(baseline.TypePGFunction, map[string]any{"name": "create_role", "securityDefiner": true, "body": definerBody()}),
			res(baseline.TypePGFunction, map[string]any{"name": "f", "securityDefiner": true, "body": "\nBEGIN\n  RETURN 1;\nEND;\n"}), "search_path not pinned",
		}},
		baseline.PGUserMappingSecret: {{mapping(true), mapping(false), "not a secret"}},
		baseline.PGRoleNoSearchPath: {{
			res(baseline.TypePGRole, map[string]any{"name": "etl", "searchPaths": []any{}}), res(baseline.TypePGRole, map[string]any{"name": "etl", "searchPaths": []any{"evil", "public"}}), "search_path set to evil, public",
		}},
		baseline.PGNoHandSettings: {{
			res(baseline.TypePGDatabase, map[string]any{"name": "gis"}), res(baseline.TypePGDatabase, map[string]any{"name": "x", "handSetting": "database gis, role etl: search_path=evil"}), "setting made by hand (database gis, role etl: search_path=evil)",
		}},
		baseline.PGAdminIntact: {{
			res(baseline.TypePGDatabase, map[string]any{"name": "gis"}), res(baseline.TypePGDatabase, map[string]any{"name": "postgis_admin", "adminProblem": "granted to spy"}), "the admin postgis_admin: granted to spy",
		}},
		baseline.PGRoleLogsIn: {{
			res(baseline.TypePGDatabase, map[string]any{"name": "gis"}), res(baseline.TypePGDatabase, map[string]any{"name": "x", "loginProblem": "role etl cannot log in to gis with the stack's password"}), "role etl cannot log in",
		}},
		baseline.PGNoPublicGrants: {{
			res(baseline.TypePGGrant, grant), res(baseline.TypePGGrant, with(grant, "privileges", []any{"EXECUTE"})), "grants EXECUTE on function utility.utility to PUBLIC",
		}},
	}
	// A public /8 is the internet too; all traffic to half of it is unrestricted.
	fx[baseline.SGNoPublicDBIngress] = append(fx[baseline.SGNoPublicDBIngress], fixture{res(baseline.TypeIngressRule, map[string]any{"ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "10.20.30.0/24", "description": "etl"}),
		res(baseline.TypeIngressRule, map[string]any{"ipProtocol": "tcp", "fromPort": 5000.0, "toPort": 6000.0, "cidrIpv4": "1.0.0.0/8", "description": "by hand"}), "1.0.0.0/8 can reach the database port 5432"})
	fx[baseline.SGNoUnrestrictedEgress] = append(fx[baseline.SGNoUnrestrictedEgress], fixture{res(baseline.TypeEgressRule, map[string]any{"ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrIpv4": "10.0.0.0/8", "description": "https"}),
		res(baseline.TypeEgressRule, map[string]any{"ipProtocol": "-1", "cidrIpv4": "128.0.0.0/1", "description": "half the world"}), "all traffic to 128.0.0.0/1"})
	return fx
}

func TestEveryRuleBothWays(t *testing.T) {
	cfg := policypack.Config{Production: true}
	fx := fixtures()
	for _, id := range policypack.RuleIDs() {
		if id == baseline.SGNoMixedInlineRules {
			continue // cross-resource only: TestCrossResourceRules
		}
		cases, ok := fx[id]
		if !ok {
			t.Errorf("rule %s has no fixtures", id)
			continue
		}
		for i, c := range cases {
			for _, v := range policypack.EvaluateResource(c.good, cfg) {
				if v.Rule == id {
					t.Errorf("%s[%d]: good fixture violates: %s", id, i, v.Message)
				}
			}
			var msgs []string
			for _, v := range policypack.EvaluateResource(c.bad, cfg) {
				if v.Rule == id {
					msgs = append(msgs, v.Message)
					if v.Level != policypack.RuleByID(id).Level {
						t.Errorf("%s[%d]: level %s, want the rule's %s", id, i, v.Level, policypack.RuleByID(id).Level)
					}
				}
			}
			if len(msgs) == 0 || !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Errorf("%s[%d]: bad fixture: messages %q, want one containing %q", id, i, msgs, c.want)
			}
		}
	}
	for id := range fx {
		if policypack.RuleByID(id) == nil {
			t.Errorf("fixtures for unknown rule %s", id)
		}
	}
}

// World egress is at least advisory on any protocol and port; all traffic to
// the world stays mandatory, reported once.
func TestWorldEgressLevels(t *testing.T) {
	eg := func(p map[string]any) policypack.Resource { return res(baseline.TypeEgressRule, p) }
	all := eg(with(egress, "ipProtocol", "-1", "cidrIpv4", "0.0.0.0/0", "fromPort", nil, "toPort", nil))
	off := policypack.Config{Levels: map[string]policypack.Level{baseline.SGNoUnrestrictedEgress: policypack.Disabled}}
	unknown := resource.NewPropertyMapFromMap(egress)
	unknown["cidrIpv4"] = resource.MakeComputed(resource.NewStringProperty(""))
	for _, tc := range []struct {
		name string
		r    policypack.Resource
		cfg  policypack.Config
		want string // rule:level of each finding
	}{
		{"tcp 443 to the world", eg(with(egress, "cidrIpv4", "0.0.0.0/0")), policypack.Config{}, "sg-no-world-egress:advisory"},
		{"udp 53 to ::/0", eg(with(egress, "ipProtocol", "udp", "fromPort", 53, "toPort", 53, "cidrIpv4", nil, "cidrIpv6", "::/0")), policypack.Config{}, "sg-no-world-egress:advisory"},
		{"all traffic to the world", all, policypack.Config{}, "sg-no-unrestricted-egress:mandatory"},
		{"all traffic, the mandatory rule off", all, off, "sg-no-world-egress:advisory"},
		{"destination unknown", policypack.Resource{URN: "u", Type: baseline.TypeEgressRule, Properties: unknown}, policypack.Config{}, "sg-no-world-egress:advisory"},
		{"private destination", eg(egress), policypack.Config{}, ""},
	} {
		var got []string
		for _, v := range policypack.EvaluateResource(tc.r, tc.cfg) {
			if v.Rule == baseline.SGNoWorldEgress || v.Rule == baseline.SGNoUnrestrictedEgress {
				got = append(got, v.Rule+":"+string(v.Level))
			}
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: findings %v, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEveryRuleHasRationaleAndLevel(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range policypack.Rules {
		if r.Rationale == "" || (r.Level != policypack.Mandatory && r.Level != policypack.Advisory) || len(r.Types) == 0 || seen[r.ID] {
			t.Errorf("rule %+v", r.ID)
		}
		seen[r.ID] = true
	}
}

func TestMultiAZOnlyInProduction(t *testing.T) {
	r := res(baseline.TypeDBInstance, with(instance, "multiAz", false))
	for _, v := range policypack.EvaluateResource(r, policypack.Config{Production: false}) {
		if v.Rule == baseline.RDSMultiAZProduction {
			t.Fatal("single-AZ flagged outside production")
		}
	}
}

func TestUnknownValuesAreAdvisoryNeverSilent(t *testing.T) {
	p := resource.NewPropertyMapFromMap(ingress)
	p["cidrIpv4"] = resource.MakeComputed(resource.NewStringProperty(""))
	vs := policypack.EvaluateResource(policypack.Resource{URN: "u", Type: baseline.TypeIngressRule, Properties: p}, policypack.Config{})
	found := false
	for _, v := range vs {
		if v.Rule == baseline.SGNoPublicDBIngress {
			found = true
			if v.Level != policypack.Advisory || v.Downgraded != "unknown" {
				t.Fatalf("unknown source: %+v", v)
			}
		}
	}
	if !found {
		t.Fatal("an unknown source passed silently")
	}
	// The same through the JSON form of engine events.
	j := policypack.FromJSON(map[string]any{"ipProtocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrIpv4": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "description": "d", "tags": goodTags})
	if vs := policypack.Blocking(policypack.EvaluateResource(policypack.Resource{URN: "u", Type: baseline.TypeIngressRule, Properties: j}, policypack.Config{})); len(vs) != 0 {
		t.Fatalf("unknown JSON value blocks: %+v", vs)
	}
}

func TestExemptTagDowngrades(t *testing.T) {
	tags := with(goodTags, baseline.ExemptTag, "rds-not-public rds-backup-retention")
	r := res(baseline.TypeDBInstance, with(instance, "publiclyAccessible", true, "backupRetentionPeriod", 1, "storageEncrypted", false, "tags", tags))
	got := map[string]policypack.Violation{}
	for _, v := range policypack.EvaluateResource(r, policypack.Config{}) {
		got[v.Rule] = v
	}
	for _, id := range []string{baseline.RDSNotPublic, baseline.RDSBackupRetention} {
		if v := got[id]; v.Level != policypack.Advisory || v.Downgraded != "exempt" {
			t.Errorf("%s: %+v", id, v)
		}
	}
	if v := got[baseline.RDSStorageEncrypted]; v.Level != policypack.Mandatory {
		t.Errorf("a rule not listed in the tag was downgraded: %+v", v)
	}
	// Config exemptions for resources without tags.
	bad := res(baseline.TypePGRole, with(role, "createRole", true))
	vs := policypack.EvaluateResource(bad, policypack.Config{Exempt: map[string][]string{bad.URN: {baseline.PGRoleLeastPrivilege}}})
	if len(vs) != 1 || vs[0].Downgraded != "exempt" {
		t.Fatalf("config exemption: %+v", vs)
	}
}

func TestLevelsFromConfig(t *testing.T) {
	r := res(baseline.TypeDBInstance, with(instance, "iamDatabaseAuthenticationEnabled", false))
	cfg := policypack.Config{Levels: map[string]policypack.Level{baseline.RDSIAMAuth: policypack.Mandatory, baseline.RDSModernCA: policypack.Disabled}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if vs := policypack.Blocking(policypack.EvaluateResource(r, cfg)); len(vs) != 1 || vs[0].Rule != baseline.RDSIAMAuth {
		t.Fatalf("raised level: %+v", vs)
	}
	r = res(baseline.TypeDBInstance, with(instance, "caCertIdentifier", "rds-ca-2019"))
	if vs := policypack.EvaluateResource(r, cfg); len(vs) != 0 {
		t.Fatalf("disabled rule reported: %+v", vs)
	}
	for _, bad := range []policypack.Config{
		{Levels: map[string]policypack.Level{"no-such-rule": policypack.Advisory}},
		{Levels: map[string]policypack.Level{baseline.RDSIAMAuth: "blocking"}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad.Levels)
		}
	}
}

func TestCrossResourceRules(t *testing.T) {
	g := res(baseline.TypeSecurityGroup, with(group, "ingress", []any{map[string]any{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": []any{"10.0.0.0/8"}, "description": "x"}}))
	g.ID, g.URN = "sg-1", "urn:group"
	rule := res(baseline.TypeIngressRule, ingress)
	vs := policypack.Evaluate([]policypack.Resource{g, rule}, policypack.Config{})
	if got := rules(policypack.Blocking(vs)); strings.Join(got, ",") != baseline.SGNoMixedInlineRules {
		t.Fatalf("mixed inline + standalone: %v", got)
	}
	clean := res(baseline.TypeSecurityGroup, group)
	clean.ID = "sg-1"
	if vs := policypack.Blocking(policypack.Evaluate([]policypack.Resource{clean, rule}, policypack.Config{})); len(vs) != 0 {
		t.Fatalf("clean group: %+v", vs)
	}

	// An instance attached to a group that does not force SSL.
	weak := res(baseline.TypeDBParameterGroup, with(params, "parameters", []any{map[string]any{"name": "ssl_min_protocol_version", "value": "TLSv1.2"}}))
	inst := res(baseline.TypeDBInstance, instance)
	inst.URN = "urn:instance"
	var onInstance []string
	for _, v := range policypack.Evaluate([]policypack.Resource{weak, inst}, policypack.Config{Production: true}) {
		if v.URN == inst.URN {
			onInstance = append(onInstance, v.Rule+": "+v.Message)
		}
	}
	if len(onInstance) != 1 || !strings.Contains(onInstance[0], "does not set rds.force_ssl=1") {
		t.Fatalf("instance findings: %v", onInstance)
	}
	if vs := policypack.Blocking(policypack.Evaluate([]policypack.Resource{res(baseline.TypeDBParameterGroup, params), inst}, policypack.Config{Production: true})); len(vs) != 0 {
		t.Fatalf("good pair: %+v", vs)
	}
}

func rules(vs []policypack.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Rule)
	}
	sort.Strings(out)
	return out
}

// The engine's pack gets the stack's settings through its config file: every
// policy the pack registers, with the database port and the level overrides.
func TestEngineConfig(t *testing.T) {
	cfg := policypack.EngineConfig(policypack.Config{DatabasePort: 6432, Levels: map[string]policypack.Level{baseline.SGNoPublicDBIngress: policypack.Advisory}})
	main, twin := cfg[baseline.SGNoPublicDBIngress], cfg[baseline.SGNoPublicDBIngress+policypack.AdvisorySuffix]
	if main == nil || twin == nil || main["databasePort"] != 6432 || twin["databasePort"] != 6432 || main["backupRetentionDays"] != 7 {
		t.Fatalf("config: %v / %v", main, twin)
	}
	if main["enforcementLevel"] != "advisory" || twin["enforcementLevel"] != nil {
		t.Fatalf("levels: %v / %v", main["enforcementLevel"], twin["enforcementLevel"])
	}
}
