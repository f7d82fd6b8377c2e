package baseline

import "testing"

func TestCIDRClassification(t *testing.T) {
	cases := []struct {
		cidr                            string
		internet, public, world, parsed bool
	}{
		{cidr: "0.0.0.0/0", internet: true, public: true, world: true, parsed: true},
		{cidr: "::/0", internet: true, public: true, world: true, parsed: true},
		{cidr: "0.0.0.0/1", internet: true, public: true, parsed: true},
		{cidr: "128.0.0.0/1", internet: true, public: true, parsed: true},
		{cidr: "8.0.0.0/7", internet: true, public: true, parsed: true},
		{cidr: "8.0.0.0/8", public: true, parsed: true},
		{cidr: "2000::/15", internet: true, public: true, parsed: true},
		{cidr: "2001:db8::/32", public: true, parsed: true},
		{cidr: "203.0.113.7/32", public: true, parsed: true},
		{cidr: "10.0.0.0/8", parsed: true},
		{cidr: "10.1.2.0/24", parsed: true},
		{cidr: " 172.16.5.0/24 ", parsed: true},
		{cidr: "172.15.0.0/16", public: true, parsed: true},
		{cidr: "192.168.0.0/16", parsed: true},
		{cidr: "192.0.0.0/8", public: true, parsed: true}, // wider than 192.168/16: spans public space
		{cidr: "100.64.0.0/10", parsed: true},
		{cidr: "fd12::/16", parsed: true},
		{cidr: "fd00::/8", internet: true, parsed: true}, // private, but shorter than /16 counts as the internet
		{cidr: "fe80::/64", parsed: true},
		{cidr: "not-a-cidr"},
		{cidr: ""},
	}
	for _, tc := range cases {
		if got := OpensToInternet(tc.cidr); got != tc.internet {
			t.Errorf("OpensToInternet(%q) = %v", tc.cidr, got)
		}
		if got := Public(tc.cidr); got != tc.public && tc.parsed {
			t.Errorf("Public(%q) = %v", tc.cidr, got)
		}
		if !tc.parsed && Public(tc.cidr) {
			t.Errorf("Public(%q) = true for an unparsable CIDR", tc.cidr)
		}
		if got := IsWorld(tc.cidr); got != tc.world {
			t.Errorf("IsWorld(%q) = %v", tc.cidr, got)
		}
	}
}

// Each rule id names one rule: the exempt tag and the policy levels key on it.
func TestRuleIDsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, id := range []string{SGNoPublicDBIngress, SGNoPublicIngress, SGDescriptions, SGNoMixedInlineRules, SGNoUnrestrictedEgress,
		SGNoWorldEgress, SGRequiredTags, RDSStorageEncrypted, RDSNotPublic, RDSForceSSL, RDSTLSFloor, RDSDeletionProtection,
		RDSBackupRetention, RDSMultiAZProduction, RDSIAMAuth, RDSModernCA, RDSPerformanceInsightKMS, RDSLogExports,
		RDSManagedMasterPassword, PGRoleLeastPrivilege, PGDefinerSearchPath, PGUserMappingSecret, PGNoPublicGrants,
		PGRoleNoMembership, PGRoleNoSearchPath, PGNoOpenDatabase, PGNoHandSettings, PGAdminIntact, PGRoleLogsIn, RDSAuditLog,
		PGUtilityIntact} {
		if seen[id] {
			t.Errorf("rule id %q twice", id)
		}
		seen[id] = true
	}
}
