package stacks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/stacks"
)

func valid() map[string]string {
	return map[string]string{
		"environment": "prod", "costCenter": "gis-42", "vpcId": "vpc-1", "subnetIds": "subnet-a, subnet-b",
		"tileServerSecurityGroupId": "sg-t", "etlCidr": "10.20.30.0/24", "kmsKeyId": "arn:k", "caBundle": "/ca.pem",
		"loopbackRootCert": "/ca.pem", "etlPassword": "x", "tileReaderPassword": "y", "utilityRolePassword": "z",
	}
}

func parse(m map[string]string, plain ...string) (stacks.Config, []error) {
	return stacks.Parse(func(k string) (string, bool) { v, ok := m[k]; return v, ok },
		func(k string) bool {
			for _, p := range plain {
				if p == k {
					return false
				}
			}
			return true
		})
}

func TestParseValid(t *testing.T) {
	c, errs := parse(valid())
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if !c.Production || len(c.SubnetIDs) != 2 || c.SubnetIDs[1] != "subnet-b" || c.TableOwner != "postgis_admin" || c.BackupRetention != 7 || c.DBPort != 5432 {
		t.Fatalf("%+v", c)
	}
	t.Setenv("TEST_CA", "/tmp/ca.crt")
	m := valid()
	m["caBundle"] = "$TEST_CA"
	if c, _ := parse(m); c.CABundle != "/tmp/ca.crt" {
		t.Fatalf("$VAR not expanded: %q", c.CABundle)
	}
}

func TestConfigErrorsNameKeyAndFix(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(map[string]string)
		plain []string
		key   string
		want  string
	}{
		{"missing vpc", func(m map[string]string) { delete(m, "vpcId") }, nil, "vpcId", "pulumi config set vpcId"},
		{"bad environment", func(m map[string]string) { m["environment"] = "staging" }, nil, "environment", "use dev, prod or local"},
		{"bad cidr", func(m map[string]string) { m["etlCidr"] = "10.20.30.7/24" }, nil, "etlCidr", "not a network CIDR"},
		{"missing secret", func(m map[string]string) { delete(m, "etlPassword") }, nil, "etlPassword", "--secret etlPassword"},
		{"plain secret", func(m map[string]string) {}, []string{"utilityRolePassword"}, "utilityRolePassword", "store it as a secret"},
		{"bad retention", func(m map[string]string) { m["backupRetentionDays"] = "a week" }, nil, "backupRetentionDays", "positive number"},
		{"offline prod", func(m map[string]string) { m["offline"] = "true" }, nil, "offline", "never run production"},
		{"bad role name", func(m map[string]string) { m["etlRole"] = "ETL-Writer" }, nil, "etlRole", "lower-case"},
		{"bad port", func(m map[string]string) { m["dbPort"] = "70000" }, nil, "dbPort", "not a port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := valid()
			tc.edit(m)
			_, errs := parse(m, tc.plain...)
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %v", errs)
			}
			var ce *stacks.ConfigError
			if !errors.As(errs[0], &ce) || ce.Key != tc.key || !strings.Contains(errs[0].Error(), tc.want) || !strings.Contains(errs[0].Error(), "postgis-platform:"+tc.key) {
				t.Fatalf("error %v: want key %s and %q", errs[0], tc.key, tc.want)
			}
		})
	}
}
